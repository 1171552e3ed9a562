//! The HTTP API (actix-web). Handlers are thin: parse and validate, send one message to an
//! actor, map the reply. Every route is registered in [`configure`], shared by the server and
//! the tests; decimals render as JSON strings.

mod auth;
mod control;
mod error;
mod openapi;
mod order_lists;
mod orders;
mod portfolio;
mod reconcile;
mod risk;
pub mod signals;
mod sim;
mod status;

pub use auth::ApiToken;
pub use error::ApiError;
pub use openapi::ApiDoc;

use actix_web::{App, HttpServer, dev::Server, middleware::from_fn, web};
use std::net::TcpListener;

use crate::engine::Engine;

/// Registers every route. `engine` and `token` must be in app data (see [`app_data`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(status::health))
        .route("/live", web::get().to(status::live))
        .route("/ready", web::get().to(status::ready))
        .route("/openapi.json", web::get().to(openapi::document))
        .service(
            web::scope("/v1")
                .wrap(from_fn(auth::require_token_for_changes))
                .route("/signals", web::post().to(signals::post_signal))
                .route("/orders", web::post().to(orders::post_order))
                .route("/orders", web::get().to(orders::list_orders))
                .route(
                    "/orders/{client_order_id}",
                    web::get().to(orders::get_order),
                )
                .route(
                    "/orders/{client_order_id}",
                    web::delete().to(orders::cancel_order),
                )
                .route(
                    "/orders/{client_order_id}",
                    web::patch().to(orders::modify_order),
                )
                .route("/order-lists/oco", web::post().to(order_lists::post_oco))
                .route(
                    "/order-lists/{list_client_order_id}",
                    web::get().to(order_lists::get_order_list),
                )
                .route(
                    "/order-lists/{list_client_order_id}",
                    web::delete().to(order_lists::cancel_order_list),
                )
                .route("/positions", web::get().to(portfolio::list_positions))
                .route(
                    "/positions/{symbol}",
                    web::get().to(portfolio::get_position),
                )
                .route("/account", web::get().to(portfolio::account))
                .route("/status", web::get().to(status::status))
                .route("/reconcile", web::post().to(reconcile::post_reconcile))
                .route("/reconcile", web::get().to(reconcile::get_reconcile))
                .route("/risk", web::get().to(risk::get_risk))
                .route("/risk/limits", web::put().to(risk::put_limits))
                .route("/risk/state", web::post().to(risk::post_state))
                .route(
                    "/risk/strategies/{strategy}/resume",
                    web::post().to(risk::resume_strategy),
                )
                .route(
                    "/emergency-stop",
                    web::post().to(control::post_emergency_stop),
                )
                .route("/resume", web::post().to(control::post_resume))
                .route("/sim/price", web::post().to(sim::set_price)),
        )
        .default_service(web::to(error::not_found));
}

/// The shared state every handler reads.
pub fn app_data(engine: Engine, token: ApiToken) -> (web::Data<Engine>, web::Data<ApiToken>) {
    (web::Data::new(engine), web::Data::new(token))
}

/// Refuses to expose the control API beyond this machine without a token.
pub fn check_bind(addr: std::net::SocketAddr, token: &ApiToken) -> Result<(), String> {
    if addr.ip().is_loopback() || token.is_set() {
        Ok(())
    } else {
        Err(format!(
            "refusing to listen on {addr} without REDLINE_API_TOKEN: set a token, or bind to 127.0.0.1"
        ))
    }
}

/// Starts the HTTP server on an already-bound listener (port 0 in tests). It does not watch
/// for signals: the caller stops it through its handle (`redline run` does on SIGINT/SIGTERM,
/// after stopping the other intake), and a graceful stop lets requests in flight finish
/// within `shutdown.timeout_secs`.
pub fn serve(
    listener: TcpListener,
    engine: Engine,
    token: ApiToken,
    workers: usize,
) -> std::io::Result<Server> {
    let shutdown_timeout = engine.config.shutdown.timeout_secs;
    let (engine, token) = app_data(engine, token);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(engine.clone())
            .app_data(token.clone())
            .app_data(error::json_config())
            .wrap(actix_web::middleware::Logger::new("%r %s %Dms").log_target("redline::http"))
            .configure(configure)
    })
    .disable_signals()
    .shutdown_timeout(shutdown_timeout)
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_bind_needs_a_token() {
        let public: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: std::net::SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(check_bind(public, &ApiToken::new(None)).is_err());
        assert!(check_bind(public, &ApiToken::new(Some("t"))).is_ok());
        assert!(check_bind(local, &ApiToken::new(None)).is_ok());
    }
}
