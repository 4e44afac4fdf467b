//! Discord models (plain data, no I/O).
