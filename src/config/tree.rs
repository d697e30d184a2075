//! The block tree: keyword lines with their arguments and nested blocks, every token
//! located. Produced from the token stream of `lex` (nom), consumed by `build`.

use super::Span;

/// One word of a line after quoting, substitution and expansion.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Word {
    pub text: String,
    pub span: Span,
    /// It was quoted in the file (so `{`/`}` inside it are not braces).
    pub quoted: bool,
}

/// `keyword arg arg ... [{ children }]`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Node {
    pub keyword: Word,
    pub args: Vec<Word>,
    /// `Some` when the line opened a block (even an empty one).
    pub children: Option<Vec<Node>>,
    /// The opening brace, when there is a block.
    pub open_brace: Option<Span>,
}
