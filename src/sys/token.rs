//! The reactor's token registry: a slab whose mio tokens carry a generation, so an event
//! still queued for a source that was closed can never reach the source that reused its
//! slot (the stale token simply no longer resolves).

use mio::Token;

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Values addressed by generation-checked mio tokens.
pub struct Registry<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self::new()
    }
}

fn encode(index: u32, generation: u32) -> Token {
    Token(((generation as usize) << 32) | index as usize)
}

fn decode(token: Token) -> (u32, u32) {
    ((token.0 & 0xffff_ffff) as u32, (token.0 >> 32) as u32)
}

impl<T> Registry<T> {
    pub fn new() -> Self {
        Registry {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Stores `value`; returns the token naming it.
    pub fn insert(&mut self, value: T) -> Token {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            encode(index, slot.generation)
        } else {
            let index = self.slots.len() as u32;
            self.slots.push(Slot {
                generation: 0,
                value: Some(value),
            });
            encode(index, 0)
        }
    }

    /// The value named by `token`, if it is still the one the token was issued for.
    pub fn get(&self, token: Token) -> Option<&T> {
        let (index, generation) = decode(token);
        let slot = self.slots.get(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub fn get_mut(&mut self, token: Token) -> Option<&mut T> {
        let (index, generation) = decode(token);
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// Removes the value; the token (and any copy of it) is dead from now on.
    pub fn remove(&mut self, token: Token) -> Option<T> {
        let (index, generation) = decode(token);
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != generation || slot.value.is_none() {
            return None;
        }
        let value = slot.value.take();
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        value
    }

    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.value.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_token_does_not_reach_the_reused_slot() {
        let mut r = Registry::new();
        let a = r.insert("first");
        assert_eq!(r.get(a), Some(&"first"));
        assert_eq!(r.remove(a), Some("first"));
        let b = r.insert("second");
        // Same slot, new generation.
        assert_eq!(a.0 & 0xffff_ffff, b.0 & 0xffff_ffff);
        assert_ne!(a, b);
        assert_eq!(r.get(a), None);
        assert_eq!(r.remove(a), None);
        assert_eq!(r.get(b), Some(&"second"));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn unknown_tokens_resolve_to_nothing() {
        let mut r: Registry<u8> = Registry::new();
        assert!(r.get(Token(12345)).is_none());
        assert!(r.get_mut(Token(usize::MAX)).is_none());
        assert!(r.is_empty());
    }
}
