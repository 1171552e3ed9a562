//! Integration tests of `redline sim-exchange`: the server on 127.0.0.1:0 in-process, driven
//! over real HTTP (reqwest) and WebSockets (tokio-tungstenite), signing with the same
//! `Credentials` the Binance adapter uses. One binary, one module per area.

mod support;

mod faults;
mod order_types;
mod orders;
mod rest;
mod shapes;
mod ws;
