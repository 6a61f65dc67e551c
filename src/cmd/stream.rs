//! Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD XGROUP XREADGROUP XACK XPENDING
//! XCLAIM XAUTOCLAIM XINFO.

use super::CommandSpec;

pub static SPECS: &[CommandSpec] = &[];
