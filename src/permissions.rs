//! Discord permission bitflags.
