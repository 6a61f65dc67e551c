//! RESP, the Redis wire protocol: turning client bytes into commands and replies into bytes.
//!
//! * [`parser::RequestParser`] splits the byte stream of one client connection into commands
//!   (`Vec<Bytes>` argv), accepting exactly what Redis 7 accepts (multibulk `*<n>` requests
//!   and inline lines) and failing with Redis' own protocol error texts.
//! * [`frame::Frame`] is a reply value; [`Frame::encode`] writes it in the connection's
//!   negotiated [`Protocol`] (RESP2 by default, RESP3 after `HELLO 3`).
//!
//! Invariants the rest of the server relies on:
//! * The parser is incremental and keeps its position between calls: feeding a request in any
//!   number of pieces costs O(total bytes) and yields the same commands as feeding it whole.
//! * Parsed bulk arguments are zero-copy slices of the connection's read buffer.
//! * A client cannot make the parser reserve memory it has not sent: declared lengths only
//!   bound what is accepted, they are never allocated up front beyond small caps.
//! * After a [`ParseError`] the connection must be closed (Redis does the same): the error's
//!   `Display` text is what Redis sends, so reply with `Frame::from(err)` and then close.
//! * Encoding never fails and does not allocate beyond growing the output buffer.

pub mod frame;
pub mod parser;

pub use frame::{Frame, Protocol};
pub use parser::{ParseError, ParserLimits, RequestParser};
