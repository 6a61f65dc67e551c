//! HyperLogLog on string values: PFADD PFCOUNT PFMERGE.

use super::CommandSpec;

pub static SPECS: &[CommandSpec] = &[];
