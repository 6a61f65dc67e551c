//! The only error type that reaches clients. Each variant maps to one Redis error reply, and
//! all of them are rendered in [`CmdError::to_frame`] (redirects stay data until then).

use std::borrow::Cow;

use crate::resp::Frame;
use crate::storage::StorageError;

#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    /// A complete error line, prefix included ("ERR ...", "NOAUTH ...").
    Raw(Cow<'static, str>),
    Syntax,
    NotInteger,
    NotFloat,
    WrongType,
    NoSuchKey,
    Overflow,
    /// `ERR wrong number of arguments for '<cmd>' command`.
    Arity(String),
    CrossSlot,
    Moved {
        slot: u16,
        addr: String,
    },
    TryAgain,
    ClusterDown,
    Storage(String),
}

impl CmdError {
    pub fn raw(msg: impl Into<Cow<'static, str>>) -> CmdError {
        CmdError::Raw(msg.into())
    }

    pub fn to_frame(&self) -> Frame {
        match self {
            CmdError::Raw(m) => Frame::Error(m.clone()),
            CmdError::Syntax => Frame::error("ERR syntax error"),
            CmdError::NotInteger => Frame::error("ERR value is not an integer or out of range"),
            CmdError::NotFloat => Frame::error("ERR value is not a valid float"),
            CmdError::WrongType => {
                Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CmdError::NoSuchKey => Frame::error("ERR no such key"),
            CmdError::Overflow => Frame::error("ERR increment or decrement would overflow"),
            CmdError::Arity(name) => Frame::Error(
                format!(
                    "ERR wrong number of arguments for '{}' command",
                    name.to_lowercase()
                )
                .into(),
            ),
            CmdError::CrossSlot => {
                Frame::error("CROSSSLOT Keys in request don't hash to the same slot")
            }
            CmdError::Moved { slot, addr } => Frame::Error(format!("MOVED {slot} {addr}").into()),
            CmdError::TryAgain => {
                Frame::error("TRYAGAIN Multiple keys request during rehashing of slot")
            }
            CmdError::ClusterDown => Frame::error("CLUSTERDOWN The cluster is down"),
            CmdError::Storage(m) => Frame::Error(format!("ERR storage error: {m}").into()),
        }
    }
}

impl From<StorageError> for CmdError {
    fn from(e: StorageError) -> Self {
        tracing::error!(error = %e, "storage error while executing a command");
        CmdError::Storage(e.to_string())
    }
}

/// Result of a command handler.
pub type CmdResult = Result<Frame, CmdError>;
