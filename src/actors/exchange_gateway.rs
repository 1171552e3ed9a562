//! The exchange gateway: the only actor that talks to a venue. It holds the `Exchange` adapter
//! and a `governor` rate limiter that paces every request, tells the circuit breaker how each
//! request went, and turns the venue's push stream into messages: order reports go to the order
//! router, prices to the market view and the position actors.
//!
//! The emergency stop's requests ([`CancelAll`], [`EmergencySubmit`]) skip the limiter and the
//! breaker, and while the stop is latched every ordinary [`Submit`] is refused here, the last
//! check before the venue.
//!
//! When the push stream ends, the gateway stops; its supervisor restarts it, it subscribes again
//! and tells the router to re-query every open order, so nothing that happened meanwhile is lost.

use actix::{
    Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, Recipient, ResponseFuture,
    StreamHandler, Supervised, WrapFuture,
};
use futures_util::stream;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

use crate::control::EmergencyLatch;
use crate::domain::{
    ClientOrderId, OcoRequest, OrderListReport, OrderReport, OrderRequest, Symbol,
};
use crate::exchange::{Balance, Exchange, ExchangeError, ExchangeEvent};
use crate::market::MarketView;

use super::circuit_breaker::{CircuitBreaker, RecordOutcome};
use super::messages::{MarkPrice, VenueUpdate};
use super::position::PositionRegistry;
use super::reconciler::Reconcile;
use super::supervisor::Supervision;
use actix::Addr;

#[derive(Message)]
#[rtype(result = "Result<OrderReport, ExchangeError>")]
pub struct Submit(pub OrderRequest);

/// Places an OCO order list.
#[derive(Message)]
#[rtype(result = "Result<OrderListReport, ExchangeError>")]
pub struct SubmitOco(pub OcoRequest);

/// Cancels a whole order list.
#[derive(Message)]
#[rtype(result = "Result<OrderListReport, ExchangeError>")]
pub struct CancelList {
    pub symbol: Symbol,
    pub list_client_order_id: ClientOrderId,
}

#[derive(Message)]
#[rtype(result = "Result<OrderReport, ExchangeError>")]
pub struct Cancel {
    pub symbol: Symbol,
    pub id: ClientOrderId,
}

#[derive(Message)]
#[rtype(result = "Result<OrderReport, ExchangeError>")]
pub struct Query {
    pub symbol: Symbol,
    pub id: ClientOrderId,
}

#[derive(Message)]
#[rtype(result = "Result<Vec<Balance>, ExchangeError>")]
pub struct FetchBalances;

/// Every order open at the venue (reconciliation).
#[derive(Message)]
#[rtype(result = "Result<Vec<OrderReport>, ExchangeError>")]
pub struct FetchOpenOrders;

/// Who to tell when the venue's push stream comes back after a drop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AttachReconciler(pub Recipient<Reconcile>);
/// Cancels every open order and order list on a symbol, for the emergency stop and shutdown.
/// Skips the pacing limiter (it must not wait behind a backlog; the adapter still honours a
/// venue ban) and never asks the circuit breaker (a stop must work while it is open).
#[derive(Message)]
#[rtype(result = "Result<Vec<OrderReport>, ExchangeError>")]
pub struct CancelAll {
    pub symbol: Symbol,
}

/// An order the emergency stop sends (a market order closing a position): like [`CancelAll`]
/// it skips the limiter and the breaker, and it passes while the latch refuses every [`Submit`].
#[derive(Message)]
#[rtype(result = "Result<OrderReport, ExchangeError>")]
pub struct EmergencySubmit(pub OrderRequest);

/// Waits (at most `within`) until every [`Submit`] already handed to the adapter has been
/// answered; answers how many are still out. The emergency stop asks this before cancelling,
/// so an order that was on its way when the latch engaged is on the venue, and cancelled.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct SettleSubmits {
    pub within: std::time::Duration,
}

/// Submits handed to the adapter and not answered yet.
#[derive(Debug, Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// Counts one submit in flight until dropped (answered, or its future dropped).
struct InFlightGuard(Arc<InFlight>);

impl InFlightGuard {
    fn new(in_flight: &Arc<InFlight>) -> Self {
        in_flight.count.fetch_add(1, Ordering::SeqCst);
        Self(in_flight.clone())
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl InFlight {
    async fn settled(&self) {
        loop {
            // Created before the check, so a wake-up between the two is not lost.
            let idle = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// Connects the gateway to the order router; the push stream starts then, so no report is
/// pushed before someone can take it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AttachRouter(pub Recipient<VenueUpdate>);

pub struct ExchangeGateway {
    exchange: Arc<dyn Exchange>,
    /// Paces requests to the venue's limit; `None` = unlimited (benchmarks).
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    router: Option<Recipient<VenueUpdate>>,
    /// Runs a reconciliation after each reconnect.
    reconciler: Option<Recipient<Reconcile>>,
    breaker: Addr<CircuitBreaker>,
    positions: Arc<PositionRegistry>,
    market: Arc<MarketView>,
    supervision: Arc<Supervision>,
    /// The last check before the venue: while an emergency stop is latched no [`Submit`]
    /// leaves, whatever was approved before it.
    latch: Arc<EmergencyLatch>,
    /// Submits sent and not answered: what a cancel-all could miss if it ran now.
    in_flight: Arc<InFlight>,
}

/// The parts of the engine the gateway reports to and reads.
pub struct GatewayDeps {
    pub breaker: Addr<CircuitBreaker>,
    pub positions: Arc<PositionRegistry>,
    pub market: Arc<MarketView>,
    pub supervision: Arc<Supervision>,
    pub latch: Arc<EmergencyLatch>,
}

impl ExchangeGateway {
    pub fn new(
        exchange: Arc<dyn Exchange>,
        max_requests_per_second: u32,
        deps: GatewayDeps,
    ) -> Self {
        let GatewayDeps {
            breaker,
            positions,
            market,
            supervision,
            latch,
        } = deps;
        let limiter = NonZeroU32::new(max_requests_per_second)
            .map(|n| Arc::new(RateLimiter::direct(Quota::per_second(n))));
        Self {
            exchange,
            limiter,
            router: None,
            reconciler: None,
            breaker,
            positions,
            market,
            supervision,
            latch,
            in_flight: Arc::default(),
        }
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        let Some(router) = self.router.clone() else {
            return;
        };
        let rx = self.exchange.subscribe();
        ctx.add_stream(stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|ev| (ev, rx))
        }));
        let prices = self.exchange.prices();
        ctx.spawn(prices.into_actor(self).map(|res, act, _| match res {
            Ok(prices) => {
                let now = chrono::Utc::now();
                for (symbol, price) in prices {
                    act.market.update(&symbol, price, now);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not load prices from the venue"),
        }));
        router.do_send(VenueUpdate::Resubscribed);
        tracing::info!(venue = self.exchange.venue(), "subscribed to venue updates");
    }

    /// Runs one request through the limiter and reports its outcome to the breaker.
    fn request<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn Exchange) -> crate::exchange::BoxFuture<Result<T, ExchangeError>>,
    ) -> ResponseFuture<Result<T, ExchangeError>> {
        let limiter = self.limiter.clone();
        let breaker = self.breaker.clone();
        let fut = call(self.exchange.as_ref());
        Box::pin(async move {
            if let Some(limiter) = limiter {
                limiter.until_ready().await;
            }
            let result = fut.await;
            let venue_ok = !matches!(&result, Err(e) if e.is_venue_failure());
            breaker.do_send(RecordOutcome { venue_ok });
            result
        })
    }

    /// A new order through the limiter, sent only if no emergency stop engaged meanwhile: the
    /// venue call is made after the limiter lets it go (waiting for the limiter ends early when
    /// the stop engages), so an order queued for pacing when the stop comes never leaves.
    fn submit(&self, order: OrderRequest) -> ResponseFuture<Result<OrderReport, ExchangeError>> {
        let (limiter, breaker) = (self.limiter.clone(), self.breaker.clone());
        let (exchange, latch) = (self.exchange.clone(), self.latch.clone());
        let guard = InFlightGuard::new(&self.in_flight);
        Box::pin(async move {
            let _counted = guard;
            if let Some(limiter) = limiter {
                tokio::select! {
                    _ = limiter.until_ready() => {}
                    _ = latch.engaged() => {}
                }
            }
            if latch.is_engaged() {
                tracing::warn!(id = %order.client_order_id, "order not sent: emergency stop engaged");
                return Err(not_sent_stopped());
            }
            let result = exchange.submit(order).await;
            let venue_ok = !matches!(&result, Err(e) if e.is_venue_failure());
            breaker.do_send(RecordOutcome { venue_ok });
            result
        })
    }
}

fn not_sent_stopped() -> ExchangeError {
    ExchangeError::Connectivity("not sent: emergency stop engaged".into())
}

impl Actor for ExchangeGateway {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.connect(ctx);
    }
}

impl Supervised for ExchangeGateway {
    fn restarting(&mut self, _: &mut Context<Self>) {
        self.supervision.record_restart("exchange_gateway");
    }
}

impl StreamHandler<ExchangeEvent> for ExchangeGateway {
    fn handle(&mut self, event: ExchangeEvent, _: &mut Context<Self>) {
        match event {
            ExchangeEvent::Order(report) => {
                if let Some(router) = &self.router {
                    router.do_send(VenueUpdate::Report(report));
                }
            }
            ExchangeEvent::Price { symbol, price, ts } => {
                self.market.update(&symbol, price, ts);
                if let Some(actor) = self.positions.existing(&symbol) {
                    actor.do_send(MarkPrice(price));
                }
            }
            ExchangeEvent::OrderList(list) => {
                if let Some(router) = &self.router {
                    router.do_send(VenueUpdate::OrderList(list));
                }
            }
            ExchangeEvent::Reconnected => {
                tracing::info!(
                    venue = self.exchange.venue(),
                    "venue push connection restored; reconciling open orders"
                );
                if let Some(router) = &self.router {
                    router.do_send(VenueUpdate::Resubscribed);
                }
                if let Some(reconciler) = &self.reconciler {
                    reconciler.do_send(Reconcile {
                        reason: "reconnect",
                    });
                }
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // The push connection is gone: an unrecoverable state for this actor instance. Stop, and
        // let the supervisor restart us with a fresh subscription.
        tracing::error!(
            venue = self.exchange.venue(),
            "venue update stream ended; restarting gateway"
        );
        use actix::ActorContext;
        ctx.stop();
    }
}

impl Handler<AttachRouter> for ExchangeGateway {
    type Result = ();

    fn handle(&mut self, msg: AttachRouter, ctx: &mut Context<Self>) {
        let first = self.router.is_none();
        self.router = Some(msg.0);
        if first {
            self.connect(ctx);
        }
    }
}

impl Handler<Submit> for ExchangeGateway {
    type Result = ResponseFuture<Result<OrderReport, ExchangeError>>;

    fn handle(&mut self, msg: Submit, _: &mut Context<Self>) -> Self::Result {
        if self.latch.is_engaged() {
            tracing::warn!(id = %msg.0.client_order_id, "order not sent: emergency stop engaged");
            return Box::pin(std::future::ready(Err(not_sent_stopped())));
        }
        self.submit(msg.0)
    }
}

impl Handler<SettleSubmits> for ExchangeGateway {
    type Result = ResponseFuture<usize>;

    fn handle(&mut self, msg: SettleSubmits, _: &mut Context<Self>) -> Self::Result {
        let in_flight = self.in_flight.clone();
        Box::pin(async move {
            let _ = tokio::time::timeout(msg.within, in_flight.settled()).await;
            in_flight.count.load(Ordering::SeqCst)
        })
    }
}

impl Handler<EmergencySubmit> for ExchangeGateway {
    type Result = ResponseFuture<Result<OrderReport, ExchangeError>>;

    fn handle(&mut self, msg: EmergencySubmit, _: &mut Context<Self>) -> Self::Result {
        self.exchange.submit(msg.0)
    }
}

impl Handler<CancelAll> for ExchangeGateway {
    type Result = ResponseFuture<Result<Vec<OrderReport>, ExchangeError>>;

    fn handle(&mut self, msg: CancelAll, _: &mut Context<Self>) -> Self::Result {
        self.exchange.cancel_all(msg.symbol)
    }
}

impl Handler<SubmitOco> for ExchangeGateway {
    type Result = ResponseFuture<Result<OrderListReport, ExchangeError>>;

    /// Gated like [`Submit`]: not sent once the emergency stop engaged (also while it waited
    /// for the limiter), and counted in flight so the stop's cancel-all sees it.
    fn handle(&mut self, msg: SubmitOco, _: &mut Context<Self>) -> Self::Result {
        let oco = msg.0;
        if self.latch.is_engaged() {
            tracing::warn!(id = %oco.list_client_order_id, "order list not sent: emergency stop engaged");
            return Box::pin(std::future::ready(Err(not_sent_stopped())));
        }
        let (limiter, breaker) = (self.limiter.clone(), self.breaker.clone());
        let (exchange, latch) = (self.exchange.clone(), self.latch.clone());
        let guard = InFlightGuard::new(&self.in_flight);
        Box::pin(async move {
            let _counted = guard;
            if let Some(limiter) = limiter {
                tokio::select! {
                    _ = limiter.until_ready() => {}
                    _ = latch.engaged() => {}
                }
            }
            if latch.is_engaged() {
                tracing::warn!(id = %oco.list_client_order_id, "order list not sent: emergency stop engaged");
                return Err(not_sent_stopped());
            }
            let result = exchange.submit_oco(oco).await;
            let venue_ok = !matches!(&result, Err(e) if e.is_venue_failure());
            breaker.do_send(RecordOutcome { venue_ok });
            result
        })
    }
}

impl Handler<CancelList> for ExchangeGateway {
    type Result = ResponseFuture<Result<OrderListReport, ExchangeError>>;

    fn handle(&mut self, msg: CancelList, _: &mut Context<Self>) -> Self::Result {
        self.request(move |ex| ex.cancel_order_list(msg.symbol, msg.list_client_order_id))
    }
}

impl Handler<Cancel> for ExchangeGateway {
    type Result = ResponseFuture<Result<OrderReport, ExchangeError>>;

    fn handle(&mut self, msg: Cancel, _: &mut Context<Self>) -> Self::Result {
        self.request(move |ex| ex.cancel(msg.symbol, msg.id))
    }
}

impl Handler<Query> for ExchangeGateway {
    type Result = ResponseFuture<Result<OrderReport, ExchangeError>>;

    fn handle(&mut self, msg: Query, _: &mut Context<Self>) -> Self::Result {
        self.request(move |ex| ex.query(msg.symbol, msg.id))
    }
}

impl Handler<FetchOpenOrders> for ExchangeGateway {
    type Result = ResponseFuture<Result<Vec<OrderReport>, ExchangeError>>;

    fn handle(&mut self, _: FetchOpenOrders, _: &mut Context<Self>) -> Self::Result {
        self.request(|ex| ex.open_orders())
    }
}

impl Handler<AttachReconciler> for ExchangeGateway {
    type Result = ();

    fn handle(&mut self, msg: AttachReconciler, _: &mut Context<Self>) {
        self.reconciler = Some(msg.0);
    }
}

impl Handler<FetchBalances> for ExchangeGateway {
    type Result = ResponseFuture<Result<Vec<Balance>, ExchangeError>>;

    fn handle(&mut self, _: FetchBalances, _: &mut Context<Self>) -> Self::Result {
        self.request(|ex| ex.balances())
    }
}
