//! The block tree: keyword lines with their arguments and nested blocks, every token
//! located. Built from the token stream of `lex` (fed line by line by the preprocessor in
//! `lang_pre`), consumed by `build`.
//!
//! Entry points: [`parse_file`] and [`parse_str`].
//!
//! Tree rules (keepalived's "braces anywhere"):
//! - a statement is the words between line ends and braces: its first word is the
//!   keyword, the rest its arguments;
//! - `{` opens a block for the statement before it on the same line, or, when the line
//!   holds nothing before the `{`, for the previous statement if that one has no block
//!   yet (`vrrp_instance X` then `{` on the next line);
//! - `}` closes the innermost block; text after it starts a new statement;
//! - `x { 1 2 }` gives `x` one child: keyword `1` with argument `2` (as keepalived).
//!
//! Errors: a stray `}` is reported at its position; a block never closed is reported at
//! its opening brace, naming the keyword that opened it; a `{` with no statement to open
//! is reported and its contents dropped; blocks nested deeper than 64 levels are reported
//! once and dropped, counted rather than stacked (this bounds the tree's depth, so
//! recursive walks and drops are safe, and the memory of any nesting).
//!
//! The parser is hand-written (not nom): a byte scanner in `lex` and this small stack
//! machine, which measured faster and allocates only the words and nodes themselves.

use super::diag::{Diagnostic, Sink};
use super::lex::Tok;
use super::{LoadOptions, Span};
use std::path::{Path, PathBuf};

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

/// The result of reading a configuration's text: top-level statements, every diagnostic
/// of the language layer, and the files that could not be read.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub nodes: Vec<Node>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files that could not be read: the main file, or an `include` naming a file that does
    /// not exist / is unreadable, or (with `-e` or an include check) a glob matching nothing.
    pub missing_files: Vec<PathBuf>,
}

/// Reads and parses the configuration file at `path`, following includes.
pub fn parse_file(path: &Path, opts: &LoadOptions) -> Parsed {
    super::lang_pre::run_file(path, opts)
}

/// Parses configuration text held in memory. `origin` names it in diagnostics, and
/// includes resolve relative to its directory.
pub fn parse_str(text: &str, origin: &Path, opts: &LoadOptions) -> Parsed {
    super::lang_pre::run_str(text, origin, opts)
}

/// The deepest block nesting kept (keepalived's own grammar needs about five).
pub(crate) const MAX_DEPTH: usize = 64;

/// Most words one top-level statement may hold, block included: the tree of one block is
/// the memory the reader holds at a time (the model is built block by block).
pub(crate) const MAX_BLOCK_WORDS: usize = 200_000;

/// An open block: its header statement, where its statements start in the shared node
/// stack, and its opening brace.
struct Frame {
    header: Option<Node>,
    start: usize,
    brace: Span,
}

/// Builds the tree from tokens, one logical line at a time.
///
/// Allocation-light: the statements of every open block live in one shared stack and are
/// moved into an exactly-sized `Vec` when the block closes; a statement's words gather in a
/// reused buffer until the statement ends. Blocks deeper than [`MAX_DEPTH`] are only
/// counted (their braces balanced, their statements dropped), so 100 000 nested braces
/// cost a counter, not a stack.
#[derive(Default)]
pub(crate) struct Builder {
    stack: Vec<Frame>,
    /// Blocks open beyond [`MAX_DEPTH`] (ignored), and the brace of the outermost one.
    ignored_depth: usize,
    ignored_brace: Option<Span>,
    /// Statements of the top level, then of each open block in turn.
    nodes: Vec<Node>,
    /// The statement being read: its keyword, and its arguments so far in `args`.
    keyword: Option<Word>,
    args: Vec<Word>,
    /// Words held for the current top-level statement; past [`MAX_BLOCK_WORDS`] the rest
    /// of it is dropped (`overflow`) until it ends.
    held_words: usize,
    overflow: bool,
}

impl Builder {
    fn level_start(&self) -> usize {
        self.stack.last().map(|f| f.start).unwrap_or(0)
    }

    /// Ends the statement being read (if any) and returns it.
    fn take_pending(&mut self) -> Option<Node> {
        let keyword = self.keyword.take()?;
        Some(Node {
            keyword,
            args: self.args.drain(..).collect(),
            children: None,
            open_brace: None,
        })
    }

    fn flush(&mut self) {
        if let Some(n) = self.take_pending() {
            // Statements inside an ignored (too deep) block are dropped with it.
            if self.ignored_depth == 0 {
                self.nodes.push(n);
            }
        }
        self.top_level_done();
    }

    /// A new top-level statement starts its own count of words.
    fn top_level_done(&mut self) {
        if self.stack.is_empty() && self.ignored_depth == 0 && self.keyword.is_none() {
            self.held_words = 0;
            self.overflow = false;
        }
    }

    /// Feeds the tokens of one logical line (draining `toks`).
    pub(crate) fn line(&mut self, toks: &mut Vec<Tok>, diags: &mut Sink) {
        for t in toks.drain(..) {
            match t {
                Tok::Word(w) => {
                    if self.overflow {
                        continue;
                    }
                    self.held_words += 1;
                    if self.held_words > MAX_BLOCK_WORDS {
                        self.overflow = true;
                        diags.error(
                            w.span,
                            format!("more than {MAX_BLOCK_WORDS} words in one top-level block; the rest of it is ignored"),
                        );
                        continue;
                    }
                    if self.keyword.is_none() {
                        self.keyword = Some(w);
                    } else {
                        self.args.push(w);
                    }
                }
                Tok::Open(span) => self.open(span, diags),
                Tok::Close(span) => {
                    self.flush();
                    if self.ignored_depth > 0 {
                        self.ignored_depth -= 1;
                        continue;
                    }
                    match self.stack.pop() {
                        Some(f) => self.close(f),
                        None => diags.error(span, "unexpected '}' (no block is open)".to_string()),
                    }
                    self.top_level_done();
                }
            }
        }
        self.flush();
    }

    fn open(&mut self, span: Span, diags: &mut Sink) {
        let header = match self.take_pending() {
            Some(n) => Some(n),
            None if self.ignored_depth > 0 => None,
            None => match self.nodes.last() {
                Some(last) if self.nodes.len() > self.level_start() && last.children.is_none() => {
                    self.nodes.pop()
                }
                _ => None,
            },
        };
        if self.ignored_depth > 0 {
            self.ignored_depth += 1;
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            // Too deep: the block is read (to keep braces balanced) but dropped, which
            // also keeps the tree's depth (and its recursive drop) bounded.
            diags.error(
                span.clone(),
                format!("blocks nested more than {MAX_DEPTH} deep; this block is ignored"),
            );
            self.ignored_depth = 1;
            self.ignored_brace = Some(span);
            return;
        }
        if header.is_none() && !self.overflow {
            diags.error(
                span.clone(),
                "'{' without a keyword to open; its block is ignored".to_string(),
            );
        }
        self.stack.push(Frame {
            header,
            start: self.nodes.len(),
            brace: span,
        });
    }

    fn close(&mut self, f: Frame) {
        let children: Vec<Node> = self.nodes.drain(f.start..).collect();
        if let Some(mut h) = f.header {
            h.children = Some(children);
            h.open_brace = Some(f.brace);
            self.nodes.push(h);
        }
    }

    /// The top-level statements that are complete: everything before the last one, and
    /// the last one too once it has its block (a statement without a block may still get
    /// one from a `{` on the next line). Lets the reader build the model block by block
    /// instead of holding the whole tree.
    pub(crate) fn drain_complete(&mut self) -> std::vec::Drain<'_, Node> {
        let n = if !self.stack.is_empty() || self.ignored_depth > 0 {
            0
        } else {
            match self.nodes.last() {
                Some(last) if last.children.is_none() => self.nodes.len() - 1,
                _ => self.nodes.len(),
            }
        };
        self.nodes.drain(..n)
    }

    /// Ends the input: every block still open is reported at its opening brace (outermost
    /// first) and closed.
    pub(crate) fn finish(mut self, diags: &mut Sink) -> Vec<Node> {
        self.flush();
        for f in &self.stack {
            let what = match &f.header {
                Some(h) => format!("opened by '{}'", h.keyword.text),
                None => "without a keyword".to_string(),
            };
            diags.error(
                f.brace.clone(),
                format!("unclosed '{{' {what}: missing '}}' before end of input"),
            );
        }
        if let (true, Some(brace)) = (self.ignored_depth > 0, self.ignored_brace.take()) {
            diags.error(
                brace,
                "unclosed '{' (ignored, too deep): missing '}' before end of input".to_string(),
            );
        }
        while let Some(f) = self.stack.pop() {
            self.close(f);
        }
        self.nodes
    }
}
