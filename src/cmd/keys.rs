//! PLACEHOLDER (being replaced by the key-commands work): generic key commands.
use super::CommandSpec;
pub static SPECS: &[CommandSpec] = &[];
