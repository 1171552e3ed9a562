//! One `PositionActor` per symbol, created on first use by [`PositionRegistry`]. It owns the
//! symbol's `Position`, applies fills, marks to market on every price, publishes each change and
//! keeps a read-only snapshot in the registry's view for the HTTP layer.

use actix::{Actor, Addr, Context, Handler, Message, MessageResult, Supervised, Supervisor};
use dashmap::DashMap;
use std::sync::Arc;

use crate::domain::{Position, Symbol};
use crate::events::{EngineEvent, EventBus};
use crate::exchange::filters::Instruments;

use super::messages::{ApplyFill, MarkPrice};
use super::supervisor::Supervision;

#[derive(Message)]
#[rtype(result = "Position")]
pub struct GetPosition;

pub struct PositionActor {
    position: Position,
    events: EventBus,
    view: Arc<DashMap<Symbol, Position>>,
    supervision: Arc<Supervision>,
}

impl PositionActor {
    fn publish(&self) {
        self.view
            .insert(self.position.symbol.clone(), self.position.clone());
    }
}

impl Actor for PositionActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.publish();
    }
}

impl Supervised for PositionActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // The position is the actor's state and is kept; the view is republished on start.
        self.supervision.record_restart("position");
    }
}

impl Handler<ApplyFill> for PositionActor {
    type Result = ();

    fn handle(&mut self, msg: ApplyFill, _: &mut Context<Self>) {
        match self.position.apply_fill(&msg.0) {
            Ok(()) => {
                self.publish();
                self.events.publish(EngineEvent::PositionUpdated {
                    position: self.position.clone(),
                });
            }
            Err(e) => tracing::error!(error = %e, "fill not applied to position"),
        }
    }
}

impl Handler<MarkPrice> for PositionActor {
    type Result = ();

    fn handle(&mut self, msg: MarkPrice, _: &mut Context<Self>) {
        self.position.mark(msg.0);
        self.publish();
    }
}

impl Handler<GetPosition> for PositionActor {
    type Result = MessageResult<GetPosition>;

    fn handle(&mut self, _: GetPosition, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.position.clone())
    }
}

/// Creates position actors on first use and keeps their latest snapshots. The address map and
/// the view are read-mostly: written once per symbol (address) or by the symbol's own actor
/// (snapshot).
pub struct PositionRegistry {
    instruments: Arc<Instruments>,
    events: EventBus,
    supervision: Arc<Supervision>,
    actors: DashMap<Symbol, Addr<PositionActor>>,
    view: Arc<DashMap<Symbol, Position>>,
}

impl PositionRegistry {
    pub fn new(
        instruments: Arc<Instruments>,
        events: EventBus,
        supervision: Arc<Supervision>,
    ) -> Arc<Self> {
        Arc::new(Self {
            instruments,
            events,
            supervision,
            actors: DashMap::new(),
            view: Arc::new(DashMap::new()),
        })
    }

    /// The actor for `symbol`, started under a supervisor on first use; `None` for a symbol
    /// that is not a configured instrument. Must be called from within the actix system.
    pub fn actor(&self, symbol: &Symbol) -> Option<Addr<PositionActor>> {
        if let Some(addr) = self.actors.get(symbol) {
            return Some(addr.clone());
        }
        let rules = self.instruments.get(symbol)?;
        let entry = self.actors.entry(symbol.clone()).or_insert_with(|| {
            let position = Position::new(
                symbol.clone(),
                rules.base_asset.clone(),
                rules.quote_asset.clone(),
            );
            let (events, view, supervision) = (
                self.events.clone(),
                self.view.clone(),
                self.supervision.clone(),
            );
            Supervisor::start(move |_| PositionActor {
                position,
                events,
                view,
                supervision,
            })
        });
        Some(entry.clone())
    }

    /// Starts an actor holding each recovered position (from the journal), so the next fill
    /// continues from it.
    pub fn restore(&self, positions: impl IntoIterator<Item = Position>) {
        for position in positions {
            if self.instruments.get(&position.symbol).is_none() {
                tracing::warn!(symbol = %position.symbol, "recovered position for a symbol no longer configured; left in the journal");
                continue;
            }
            let symbol = position.symbol.clone();
            self.view.insert(symbol.clone(), position.clone());
            let (events, view, supervision) = (
                self.events.clone(),
                self.view.clone(),
                self.supervision.clone(),
            );
            let addr = Supervisor::start(move |_| PositionActor {
                position,
                events,
                view,
                supervision,
            });
            self.actors.insert(symbol, addr);
        }
    }

    /// Only symbols that already have an actor (for price marks: no actor is made for a price).
    pub fn existing(&self, symbol: &Symbol) -> Option<Addr<PositionActor>> {
        self.actors.get(symbol).map(|a| a.clone())
    }

    pub fn snapshot(&self, symbol: &Symbol) -> Option<Position> {
        self.view.get(symbol).map(|p| p.clone())
    }

    pub fn all(&self) -> Vec<Position> {
        let mut v: Vec<Position> = self.view.iter().map(|e| e.value().clone()).collect();
        v.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        v
    }
}
