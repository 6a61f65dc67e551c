//! Bit operations on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

use super::CommandSpec;

pub static SPECS: &[CommandSpec] = &[];
