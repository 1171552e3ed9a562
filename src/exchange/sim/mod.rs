//! The built-in simulated exchange (to be written).
