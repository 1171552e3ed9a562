//! Sending an order: the venue's MAX_NUM_ORDERS, the breaker's permit and the risk gate
//! (`gate`), the order recorded (PENDING_NEW) and its intent committed to the journal, then the
//! venue; and what its answer means (`on_submitted`).

use super::*;
use crate::risk::CheckRequest;

impl OrderRouter {
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
                commit(journal.as_ref(), intent)
                    .await
                    .map_err(|e| format!("the journal could not record the order: {e}"))?;
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
