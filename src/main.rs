//! The `redline` binary: `redline run` (the default) starts the engine; `redline stop` and
//! `redline resume` pull and release the kill switch of a running engine; `redline
//! sim-exchange` serves the simulated venue over Binance Spot's protocol (REST, WebSocket API,
//! market streams) for testing a Binance client against it.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use redline::clock::SystemClock;
use redline::config::{self, LogFormat};
use redline::control::client::{CliCommand, ControlClient, run_cli};
use redline::engine::Engine;
use redline::exchange::sim_server::{self, SimServerSettings};
use redline::web::{self, ApiToken};

#[derive(Parser)]
#[command(
    name = "redline",
    version,
    about = "A crypto trading engine built as supervised actors"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine (paper trading on the built-in simulated exchange by default).
    Run(RunArgs),
    /// Serve the simulated exchange over Binance Spot's protocol. API key and secret come from
    /// REDLINE_SIM_API_KEY / REDLINE_SIM_API_SECRET (local-only defaults "redline-sim-key" /
    /// "redline-sim-secret" when unset).
    SimExchange(SimExchangeArgs),
    /// Emergency stop of a running engine: halt trading (latched until `redline resume`),
    /// cancel every open order, and with --flatten close every position. Prints the engine's
    /// JSON answer; exits 1 if the engine could not be reached or refused, 2 if the stop
    /// went through but something could not be cancelled or flattened (see `failed`).
    Stop(StopArgs),
    /// Lift an emergency stop: trading becomes active again.
    Resume(ResumeArgs),
}

#[derive(clap::Args)]
struct EngineArgs {
    /// The engine's HTTP address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The engine's API token (sent as a bearer token).
    #[arg(long, env = "REDLINE_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Who is acting, recorded by the engine.
    #[arg(long, default_value = "cli")]
    operator: String,
}

#[derive(clap::Args)]
struct StopArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Also close every position with market orders.
    #[arg(long)]
    flatten: bool,
    /// Why (recorded).
    #[arg(long)]
    reason: Option<String>,
}

#[derive(clap::Args)]
struct ResumeArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Why trading may go on (required, recorded).
    #[arg(long)]
    reason: String,
}

#[derive(clap::Args)]
struct SimExchangeArgs {
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:9443")]
    bind: String,
    /// A TOML file merged over the embedded defaults; its [sim] section describes the venue.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long)]
    log_json: bool,
}

#[derive(clap::Args, Default)]
struct RunArgs {
    /// A TOML file merged over the embedded defaults (config/default.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address for the HTTP API (overrides http.bind).
    #[arg(long)]
    bind: Option<String>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long)]
    log_json: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(args),
        Command::SimExchange(args) => sim_exchange(args),
        Command::Stop(args) => control(
            &args.engine,
            CliCommand::Stop {
                flatten: args.flatten,
                reason: args.reason.clone(),
            },
        ),
        Command::Resume(args) => control(
            &args.engine,
            CliCommand::Resume {
                reason: args.reason.clone(),
            },
        ),
    }
}

/// Runs one control request, prints the answer, and exits non-zero unless it fully worked.
fn control(args: &EngineArgs, command: CliCommand) -> anyhow::Result<()> {
    let client = ControlClient::new(&args.url, args.token.clone(), &args.operator)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let code = runtime.block_on(run_cli(
        &client,
        command,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    ));
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

fn sim_exchange(args: SimExchangeArgs) -> anyhow::Result<()> {
    let config = config::load(args.config.as_deref(), std::env::vars())?;
    let format = if args.log_json {
        LogFormat::Json
    } else {
        config.log.format
    };
    init_tracing(format, &config.log.level);
    let addr: SocketAddr = args
        .bind
        .parse()
        .with_context(|| format!("--bind {:?}", args.bind))?;
    let instruments = config.instruments().map_err(anyhow::Error::msg)?;
    let info: serde_json::Value =
        serde_json::from_str(&config.exchange_info_text().map_err(anyhow::Error::msg)?)
            .context("sim.exchange_info")?;
    let (credentials, defaulted) = SimServerSettings::credentials_from_env();
    if defaulted {
        tracing::warn!(
            api_key = %credentials.api_key,
            "REDLINE_SIM_API_KEY / REDLINE_SIM_API_SECRET not both set: using the local-only default key and secret"
        );
    }
    let settings = SimServerSettings::new(credentials, info);
    let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    actix_rt::System::new().block_on(async move {
        let sim = redline::engine::build_sim(&config, &instruments).map_err(anyhow::Error::msg)?;
        if config.sim.feed_interval_ms > 0 {
            drop(sim.spawn_feed(std::time::Duration::from_millis(
                config.sim.feed_interval_ms,
            )));
        }
        tracing::info!(%addr, "redline sim-exchange listening");
        sim_server::serve(listener, sim, settings)?.await?;
        tracing::info!("redline sim-exchange stopped");
        Ok(())
    })
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut config = config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(bind) = args.bind {
        config.http.bind = bind;
    }
    let format = if args.log_json {
        LogFormat::Json
    } else {
        config.log.format
    };
    init_tracing(format, &config.log.level);

    let addr: SocketAddr = config
        .http
        .bind
        .parse()
        .with_context(|| format!("--bind {:?}", config.http.bind))?;
    let token = ApiToken::from_env();
    web::check_bind(addr, &token).map_err(anyhow::Error::msg)?;
    let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    let workers = config.http.workers;

    actix_rt::System::new().block_on(async move {
        let mode = config.mode;
        let engine = Engine::launch(config, Arc::new(SystemClock))
            .await
            .map_err(anyhow::Error::msg)?;
        tracing::info!(%addr, ?mode, token = token.is_set(), "redline listening");
        let signal = async {
            match shutdown_signal().await {
                Ok(name) => name.to_string(),
                Err(e) => {
                    // Without signal handling the engine could only be killed: refuse to run.
                    tracing::error!(error = %e, "cannot listen for SIGTERM/SIGINT");
                    format!("signal handling failed: {e}")
                }
            }
        };
        let report = engine.serve_until(listener, token, workers, signal).await?;
        if !report.failed.is_empty() {
            tracing::error!(
                failed = report.failed.len(),
                "shutdown could not cancel every open order"
            );
        }
        tracing::info!("redline stopped");
        Ok(())
    })
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM; answers which.
async fn shutdown_signal() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map(|()| "SIGINT"),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| "ctrl-c")
    }
}

fn init_tracing(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
