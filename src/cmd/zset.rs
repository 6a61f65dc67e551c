//! Sorted-set commands (ZADD ... ZSCAN, BZPOPMIN BZPOPMAX BZMPOP).

use super::CommandSpec;

pub static SPECS: &[CommandSpec] = &[];
