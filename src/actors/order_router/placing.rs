//! From a signal or manual order to the venue: de-duplication, intake, the breaker and risk
//! gate, and folding the venue's answer into the order.

use super::*;
use crate::risk::CheckRequest;

impl OrderRouter {
    pub(super) fn on_signal(&mut self, signal: Signal) -> Outcome {
        self.stats.signals_received += 1;
        if let Some((existing, _)) = self.seen_signals.get(&signal.id) {
            self.stats.duplicates += 1;
            return done(SubmitOutcome::Duplicate(existing.clone()));
        }
        let s = &self.settings;
        if let Err(e) = intake::check_fresh(
            signal.timestamp,
            self.clock.now(),
            s.max_signal_age,
            s.max_future_skew,
        ) {
            return self.invalid(e);
        }
        let Some(rules) = self.instruments.get(&signal.symbol) else {
            let e = DomainError::invalid(
                "symbol",
                format!("{} is not a configured instrument", signal.symbol),
            );
            return self.invalid(e);
        };
        let id = ClientOrderId::for_signal(&signal.id);
        if self.id_taken(&id) {
            // The signal id left the de-duplication window but its order is still known.
            self.stats.duplicates += 1;
            return done(SubmitOutcome::Duplicate(id));
        }
        let side = match signal.action {
            Action::Buy => Side::Buy,
            Action::Sell => Side::Sell,
            Action::Close => {
                self.remember_signal(signal.id.clone(), id.clone());
                return self.close_position(signal, id);
            }
        };
        if let Some(bracket) = intake::bracket::Bracket::of(&signal) {
            let entry = signal
                .price
                .or(signal.stops.stop_price)
                .or(self.market.last_price(&signal.symbol));
            if let Err(e) = bracket.check(side, rules, entry) {
                return self.invalid(e);
            }
        }
        if intake::sizing::SizeSource::of(&signal).needs_equity() {
            self.remember_signal(signal.id.clone(), id);
            return self.size_by_equity(signal, side);
        }
        let last = self.market.last_price(&signal.symbol);
        match intake::order_for_signal(&signal, side, rules, last, None) {
            Ok(request) => {
                self.remember_signal(signal.id.clone(), id);
                self.place_entry(request, signal)
            }
            Err(e) => self.invalid(e),
        }
    }

    /// A signal sized by `size_pct` or `risk_pct`: fetch the venue's balances, value them in
    /// the symbol's quote asset at the last prices (the equity), then size and place the order.
    /// The signal id is remembered before the fetch, so a repeat arriving meanwhile is a
    /// duplicate; it is forgotten again if the signal turns out invalid. If the balances cannot
    /// be fetched the signal is refused as invalid (the size cannot be known).
    fn size_by_equity(&mut self, signal: Signal, side: Side) -> Outcome {
        let gateway = self.gateway.clone();
        let fetch = async move { gateway.send(FetchBalances).await };
        Box::pin(fetch.into_actor(self).then(move |balances, act, _| {
            let Some(rules) = act.instruments.get(&signal.symbol) else {
                act.forget_signal(&signal.id);
                return act.invalid(DomainError::invalid(
                    "symbol",
                    "not a configured instrument",
                ));
            };
            let equity = match balances {
                Ok(Ok(balances)) => intake::sizing::equity_in(&rules.quote_asset, &balances, |s| {
                    act.market.last_price(s)
                }),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "balances unavailable for equity sizing");
                    None
                }
                Err(e) => {
                    tracing::warn!(error = %e, "gateway unavailable for equity sizing");
                    None
                }
            };
            let last = act.market.last_price(&signal.symbol);
            match intake::order_for_signal(&signal, side, rules, last, equity) {
                Ok(request) => act.place_entry(request, signal),
                Err(e) => {
                    act.forget_signal(&signal.id);
                    act.invalid(e)
                }
            }
        }))
    }

    /// Places a buy or sell signal's order, with the exit plan of a bracketed signal (dropped
    /// again if the order never reached the venue).
    fn place_entry(&mut self, request: OrderRequest, signal: Signal) -> Outcome {
        let id = request.client_order_id.clone();
        self.plan_exit(&id, &signal, request.side);
        let intent = signal.allow_duplicate;
        let placed = self.place(request, Some(signal.id), signal.strategy, intent);
        Box::pin(placed.map(move |outcome, act, _| {
            if !matches!(
                outcome,
                SubmitOutcome::Submitted(_) | SubmitOutcome::Unknown(_)
            ) {
                act.exits.remove(&id);
            }
            outcome
        }))
    }

    /// A close signal: ask the symbol's position actor what is held, then sell (or buy back) it.
    pub(super) fn close_position(&mut self, signal: Signal, id: ClientOrderId) -> Outcome {
        let Some(actor) = self.positions.actor(&signal.symbol) else {
            return self.invalid(DomainError::invalid(
                "symbol",
                "not a configured instrument",
            ));
        };
        let symbol = signal.symbol.clone();
        if !self.closing.insert(symbol.clone()) {
            self.stats.refused += 1;
            self.forget_signal(&signal.id);
            return done(SubmitOutcome::Refused(RiskRefusal {
                reason: RiskReason::CloseInProgress,
                detail: format!("a close of {symbol} is already in flight"),
            }));
        }
        // The symbol's protective exits are canceled first: they hold the position's base
        // asset at the venue, and must not sell what the close sells.
        let exits_gone = self.cancel_exits_for_close(&symbol);
        let closing = Box::pin(
            exits_gone
                .then(move |(), act, _| actor.send(GetPosition).into_actor(act))
                .then(move |position, act, _| {
                    let Some(rules) = act.instruments.get(&signal.symbol) else {
                        return done(SubmitOutcome::Invalid(DomainError::invalid(
                            "symbol",
                            "not a configured instrument",
                        )));
                    };
                    let qty = position.map(|p| p.quantity).unwrap_or_default();
                    match intake::order_to_close(id, rules, qty) {
                        Some(request) => {
                            let intent = signal.allow_duplicate;
                            act.place(request, Some(signal.id), signal.strategy, intent)
                        }
                        None => {
                            act.stats.refused += 1;
                            done(SubmitOutcome::Refused(RiskRefusal {
                                reason: RiskReason::NoPosition,
                                detail: format!(
                                    "no {} position large enough to close (holding {qty})",
                                    signal.symbol
                                ),
                            }))
                        }
                    }
                }),
        );
        Box::pin(closing.map(move |outcome, act, _| {
            act.closing.remove(&symbol);
            outcome
        }))
    }

    pub(super) fn on_manual(&mut self, msg: SubmitOrder) -> Outcome {
        let instruments = Arc::clone(&self.instruments);
        let Some(rules) = instruments.get(&msg.symbol) else {
            let e = DomainError::invalid(
                "symbol",
                format!("{} is not a configured instrument", msg.symbol),
            );
            return self.invalid(e);
        };
        let id = match msg.client_order_id {
            Some(id) if id.is_signal_derived() => {
                return self.invalid(DomainError::invalid(
                    "client_order_id",
                    "must not start with \"rl-\" (reserved for orders made from signals)",
                ));
            }
            Some(id) if self.id_taken(&id) => {
                return self.invalid(DomainError::invalid(
                    "client_order_id",
                    "is already used by another order",
                ));
            }
            Some(id) => id,
            None => match self.next_manual_id() {
                Ok(id) => id,
                Err(e) => return self.invalid(e),
            },
        };
        let request = OrderRequest {
            client_order_id: id,
            symbol: msg.symbol,
            side: msg.side,
            order_type: msg.order_type,
            quantity: msg.quantity,
            price: msg.price,
            time_in_force: msg.time_in_force,
            stop_price: msg.stop_price,
            trailing_delta: msg.trailing_delta,
            quote_quantity: None,
        };
        if let Err(e) =
            intake::check_rules(&request, rules, self.market.last_price(&request.symbol))
        {
            return self.invalid(e);
        }
        self.place(request, None, None, msg.allow_duplicate)
    }

    /// A fresh id for a manual order (`rlm-<ms>-<seq>`).
    pub(super) fn next_manual_id(&mut self) -> Result<ClientOrderId, DomainError> {
        self.manual_seq += 1;
        let raw = format!(
            "rlm-{}-{}",
            self.clock.now().timestamp_millis(),
            self.manual_seq
        );
        ClientOrderId::new(&raw)
    }

    /// The venue's MAX_NUM_ORDERS filter for `adding` more orders, counted over this engine's
    /// open orders on the symbol (the venue checks again, counting any orders placed elsewhere).
    pub(super) fn check_open_orders(
        &mut self,
        symbol: &Symbol,
        adding: usize,
    ) -> Result<(), RiskRefusal> {
        let Some(rules) = self.instruments.get(symbol) else {
            return Ok(());
        };
        if rules.max_open_orders.is_none() {
            return Ok(());
        }
        let orders = &self.orders;
        let open = match self.live.get_mut(symbol) {
            Some(ids) => {
                ids.retain(|id| orders.get(id).is_some_and(|o| !o.status.is_terminal()));
                ids.len()
            }
            None => 0,
        };
        let after_all_but_one = open + adding.saturating_sub(1);
        rules
            .check_open_orders(after_all_but_one)
            .map_err(|v| RiskRefusal {
                reason: RiskReason::MaxOpenOrders,
                detail: v.to_string(),
            })
    }

    /// Breaker, then risk gate, then the venue. The order is recorded (PENDING_NEW) before it is
    /// sent, so a report that races the venue's answer always finds it.
    pub(super) fn place(
        &mut self,
        request: OrderRequest,
        signal: Option<SignalId>,
        strategy: Option<String>,
        allow_duplicate: bool,
    ) -> Outcome {
        let id = request.client_order_id.clone();
        if let Err(refusal) = self.check_open_orders(&request.symbol, 1) {
            self.stats.refused += 1;
            if let Some(signal) = &signal {
                self.forget_signal(signal);
            }
            return done(SubmitOutcome::Refused(refusal));
        }
        self.reserved.insert(id.clone());
        let checks = gate(
            self.breaker.clone(),
            self.risk.clone(),
            vec![CheckRequest {
                order: request.clone(),
                strategy: strategy.clone(),
                allow_duplicate,
                shares_with: None,
            }],
        );
        Box::pin(checks.into_actor(self).then(move |checked, act, _| {
            act.reserved.remove(&id);
            if let Err(outcome) = checked {
                if matches!(outcome, SubmitOutcome::Refused(_)) {
                    act.stats.refused += 1;
                }
                if let Some(signal) = &signal
                    && outcome.is_retryable()
                {
                    act.forget_signal(signal);
                }
                return done(outcome);
            }
            if act.latch.is_engaged() {
                // Approved before the emergency stop, not yet sent: it never leaves.
                act.risk.do_send(OrderDone(id.clone()));
                if let Some(signal) = &signal {
                    act.forget_signal(signal);
                }
                return done(SubmitOutcome::Unavailable {
                    reason: RiskReason::TradingHalted.as_str(),
                    detail: "trading is halted: emergency stop (lifted only by POST /v1/resume)"
                        .into(),
                });
            }
            let order = Order::new(&request, signal.clone(), strategy, act.clock.now());
            act.publish_order(&order);
            act.orders.insert(id.clone(), order);
            act.live
                .entry(request.symbol.clone())
                .or_default()
                .insert(id.clone());
            act.stats.orders_sent += 1;
            // The intent is committed to the journal before the request leaves, so after a
            // crash the engine knows every order it may have sent.
            let (journal, gateway) = (act.journal.clone(), act.gateway.clone());
            let intent = Entry::new(act.clock.now(), EntryKind::OrderIntent, &request)
                .order(&id)
                .symbol(&request.symbol)
                .by("engine");
            let sent = async move {
                if let Some(journal) = journal {
                    match journal.send(RecordDurable(intent)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            return Err(format!("the journal could not record the order: {e}"));
                        }
                        Err(e) => return Err(format!("the journal is unavailable: {e}")),
                    }
                }
                Ok(gateway.send(Submit(request)).await)
            };
            Box::pin(sent.into_actor(act).map(move |answer, act, ctx| {
                let mut outcome = match answer {
                    Ok(answer) => act.on_submitted(id, answer, ctx),
                    Err(detail) => act.not_recorded(id, detail),
                };
                if matches!(outcome, SubmitOutcome::ExchangeFailed { .. }) && act.latch.is_engaged()
                {
                    // Held back by the gateway because the emergency stop engaged meanwhile.
                    outcome = SubmitOutcome::Unavailable {
                        reason: RiskReason::TradingHalted.as_str(),
                        detail:
                            "trading is halted: emergency stop (lifted only by POST /v1/resume)"
                                .into(),
                    };
                }
                if let Some(signal) = &signal
                    && outcome.is_retryable()
                {
                    act.forget_signal(signal);
                }
                outcome
            }))
        }))
    }

    /// Folds the venue's answer to a submit into the order. Reports pushed meanwhile may already
    /// have moved the order on; an error answer never overrides what the venue has reported.
    pub(super) fn on_submitted(
        &mut self,
        id: ClientOrderId,
        answer: Result<Result<OrderReport, ExchangeError>, actix::MailboxError>,
        ctx: &mut Context<Self>,
    ) -> SubmitOutcome {
        let error = match answer {
            Ok(Ok(report)) => {
                self.apply_report(&report);
                return self.order_outcome(&id, SubmitOutcome::Submitted);
            }
            Ok(Err(e)) => e,
            // The gateway died with the request in hand: it may or may not have been sent.
            Err(e) => ExchangeError::UnknownOutcome(format!("gateway: {e}")),
        };
        let now = self.clock.now();
        let Some(order) = self.orders.get_mut(&id) else {
            return SubmitOutcome::Unavailable {
                reason: "engine_unavailable",
                detail: "order lost".into(),
            };
        };
        if order.status != OrderStatus::PendingNew {
            // The venue already reported on this order, so it did reach the venue: trust the
            // reports, and confirm by query.
            tracing::warn!(%id, error = %error, status = order.status.as_str(), "submit answered with an error after the venue reported the order; keeping the reported state");
            let (snapshot, symbol) = (Box::new(order.clone()), order.symbol.clone());
            self.refresh_order(symbol, id, ctx);
            return SubmitOutcome::Submitted(snapshot);
        }
        order.updated_at = now;
        let outcome = match &error {
            ExchangeError::Rejected { code, message } => {
                order.status = OrderStatus::Rejected;
                order.reason = Some(format!("{message} ({code})"));
                SubmitOutcome::ExchangeRejected {
                    order: Box::new(order.clone()),
                    code: *code,
                    message: message.clone(),
                }
            }
            ExchangeError::Connectivity(_)
            | ExchangeError::RateLimited { .. }
            | ExchangeError::Auth { .. } => {
                order.status = OrderStatus::Rejected;
                order.reason = Some(format!("not sent: {error}"));
                SubmitOutcome::ExchangeFailed {
                    order: Box::new(order.clone()),
                    error: error.to_string(),
                }
            }
            ExchangeError::UnknownOutcome(_) => {
                order.status = OrderStatus::Unknown;
                order.reason = Some(error.to_string());
                SubmitOutcome::Unknown(Box::new(order.clone()))
            }
        };
        let order = order.clone();
        self.publish_order(&order);
        // Rejected or never sent: the gate releases what it reserved for the order.
        if !matches!(outcome, SubmitOutcome::Unknown(_)) {
            self.risk.do_send(OrderDone(id.clone()));
        }
        match &outcome {
            // Never reached the venue: nothing exists there, so nothing is kept here either
            // (the id may be used again by a retry of the same signal).
            SubmitOutcome::ExchangeFailed { .. } => {
                self.orders.remove(&id);
            }
            SubmitOutcome::Unknown(_) => self.resolve_unknown(id, 0, ctx),
            _ => self.terminal_order.push_back((now, id)),
        }
        outcome
    }

    /// The journal could not record the intent, so the order was not sent: it is dropped (the
    /// id may be used again) and the caller told why.
    fn not_recorded(&mut self, id: ClientOrderId, detail: String) -> SubmitOutcome {
        tracing::error!(%id, %detail, "order not sent");
        self.stats.orders_sent = self.stats.orders_sent.saturating_sub(1);
        if let Some(mut order) = self.orders.remove(&id) {
            order.status = OrderStatus::Rejected;
            order.reason = Some(format!("not sent: {detail}"));
            self.publish_order(&order);
        }
        SubmitOutcome::Unavailable {
            reason: "journal_unavailable",
            detail,
        }
    }

    pub(super) fn order_outcome(
        &self,
        id: &ClientOrderId,
        make: fn(Box<Order>) -> SubmitOutcome,
    ) -> SubmitOutcome {
        match self.orders.get(id) {
            Some(o) => make(Box::new(o.clone())),
            None => SubmitOutcome::Unavailable {
                reason: "engine_unavailable",
                detail: "order evicted".into(),
            },
        }
    }
}

/// The breaker's permit, then the risk gate's approval of every one of `requests` (the legs of
/// an order list are each checked as an order). A refusal hands the permit back unused.
pub(super) async fn gate(
    breaker: Addr<CircuitBreaker>,
    risk: Addr<RiskGate>,
    requests: Vec<CheckRequest>,
) -> Result<(), SubmitOutcome> {
    let permit = match breaker.send(Permit).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(open)) => {
            return Err(SubmitOutcome::Unavailable {
                reason: "breaker_open",
                detail: open.to_string(),
            });
        }
        Err(e) => {
            return Err(SubmitOutcome::Unavailable {
                reason: "engine_unavailable",
                detail: e.to_string(),
            });
        }
    };
    let mut approved = Vec::new();
    for check in requests {
        let id = check.order.client_order_id.clone();
        let refusal = match risk.send(CheckOrder(check)).await {
            Ok(Ok(())) => {
                approved.push(id);
                continue;
            }
            // Halted (by an operator, the supervisor or the execution throttle): nothing
            // passes until a person resumes trading.
            Ok(Err(r))
                if matches!(
                    r.reason,
                    RiskReason::TradingHalted | RiskReason::ExecutionThrottle
                ) =>
            {
                SubmitOutcome::Unavailable {
                    reason: r.reason.as_str(),
                    detail: r.detail,
                }
            }
            Ok(Err(r)) => SubmitOutcome::Refused(r),
            Err(e) => SubmitOutcome::Unavailable {
                reason: "engine_unavailable",
                detail: e.to_string(),
            },
        };
        // Legs approved before the refusal will not be sent: release what they reserved.
        for id in approved {
            risk.do_send(OrderDone(id));
        }
        breaker.do_send(PermitUnused(permit));
        return Err(refusal);
    }
    Ok(())
}
