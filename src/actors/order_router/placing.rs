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
        let last = self.market.last_price(&signal.symbol);
        match intake::order_for_signal(&signal, side, rules, last) {
            Ok(request) => {
                self.remember_signal(signal.id.clone(), id);
                let intent = signal.allow_duplicate;
                self.place(request, Some(signal.id), signal.strategy, intent)
            }
            Err(e) => self.invalid(e),
        }
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
        let closing = Box::pin(actor.send(GetPosition).into_actor(self).then(
            move |position, act, _| {
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
            },
        ));
        Box::pin(closing.map(move |outcome, act, _| {
            act.closing.remove(&symbol);
            outcome
        }))
    }

    pub(super) fn on_manual(&mut self, msg: SubmitOrder) -> Outcome {
        let Some(rules) = self.instruments.get(&msg.symbol) else {
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
            None => {
                self.manual_seq += 1;
                let raw = format!(
                    "rlm-{}-{}",
                    self.clock.now().timestamp_millis(),
                    self.manual_seq
                );
                match ClientOrderId::new(&raw) {
                    Ok(id) => id,
                    Err(e) => return self.invalid(e),
                }
            }
        };
        let request = OrderRequest {
            client_order_id: id,
            symbol: msg.symbol,
            side: msg.side,
            order_type: msg.order_type,
            quantity: msg.quantity,
            price: msg.price,
            time_in_force: msg.time_in_force,
        };
        if let Err(e) =
            intake::check_rules(&request, rules, self.market.last_price(&request.symbol))
        {
            return self.invalid(e);
        }
        self.place(request, None, None, msg.allow_duplicate)
    }

    /// The venue's MAX_NUM_ORDERS filter, counted over this engine's open orders on the symbol
    /// (the venue checks again, counting any orders placed elsewhere).
    fn check_open_orders(&mut self, request: &OrderRequest) -> Result<(), RiskRefusal> {
        let Some(rules) = self.instruments.get(&request.symbol) else {
            return Ok(());
        };
        if rules.max_open_orders.is_none() {
            return Ok(());
        }
        let orders = &self.orders;
        let open = match self.live.get_mut(&request.symbol) {
            Some(ids) => {
                ids.retain(|id| orders.get(id).is_some_and(|o| !o.status.is_terminal()));
                ids.len()
            }
            None => 0,
        };
        rules.check_open_orders(open).map_err(|v| RiskRefusal {
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
        if let Err(refusal) = self.check_open_orders(&request) {
            self.stats.refused += 1;
            if let Some(signal) = &signal {
                self.forget_signal(signal);
            }
            return done(SubmitOutcome::Refused(refusal));
        }
        self.reserved.insert(id.clone());
        let (breaker, risk) = (self.breaker.clone(), self.risk.clone());
        let check = CheckRequest {
            order: request.clone(),
            strategy: strategy.clone(),
            allow_duplicate,
        };
        let checks = async move {
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
            let refusal = match risk.send(CheckOrder(check)).await {
                Ok(Ok(())) => return Ok(()),
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
            breaker.do_send(PermitUnused(permit));
            Err(refusal)
        };
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
            let sent = act.gateway.send(Submit(request));
            Box::pin(sent.into_actor(act).map(move |answer, act, ctx| {
                let mut outcome = act.on_submitted(id, answer, ctx);
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
