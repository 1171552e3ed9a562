//! From a signal or manual order to an order request: de-duplication, intake and sizing,
//! closes and manual ids. Sending it is `sending`.

use super::*;

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
}
