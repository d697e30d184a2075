//! MD5 (RFC 1321), streaming: the digest of an HTTP body that `HTTP_GET`/`SSL_GET`'s
//! `digest` compares and that genhash prints. Written from the RFC; pure.

use std::fmt::Write as _;

/// MD5 message digest (RFC 1321), streaming.
#[derive(Clone, Debug)]
pub struct Md5 {
    state: [u32; 4],
    buf: [u8; 64],
    buf_len: usize,
    total_len: u64,
}

const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

/// K[i] = floor(abs(sin(i + 1)) * 2^32), computed (once) rather than tabulated.
fn k_table() -> &'static [u32; 64] {
    static K: std::sync::OnceLock<[u32; 64]> = std::sync::OnceLock::new();
    K.get_or_init(|| {
        let mut k = [0u32; 64];
        for (i, v) in k.iter_mut().enumerate() {
            *v = ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32;
        }
        k
    })
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    pub fn new() -> Md5 {
        Md5 {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476],
            buf: [0; 64],
            buf_len: 0,
            total_len: 0,
        }
    }

    fn block(&mut self, block: &[u8; 64]) {
        let k = k_table();
        let mut m = [0u32; 16];
        for (i, w) in m.iter_mut().enumerate() {
            *w = u32::from_le_bytes([
                block[4 * i],
                block[4 * i + 1],
                block[4 * i + 2],
                block[4 * i + 3],
            ]);
        }
        let [mut a, mut b, mut c, mut d] = self.state;
        // One step of round `r` (auxiliary function `f` of b, c, d; message word `g`).
        let step =
            |i: usize, f: u32, g: usize, a: &mut u32, b: &mut u32, c: &mut u32, d: &mut u32| {
                let f = f.wrapping_add(*a).wrapping_add(k[i]).wrapping_add(m[g]);
                *a = *d;
                *d = *c;
                *c = *b;
                *b = b.wrapping_add(f.rotate_left(S[i]));
            };
        for i in 0..16 {
            let f = (b & c) | (!b & d);
            step(i, f, i, &mut a, &mut b, &mut c, &mut d);
        }
        for i in 16..32 {
            let f = (d & b) | (!d & c);
            step(i, f, (5 * i + 1) % 16, &mut a, &mut b, &mut c, &mut d);
        }
        for i in 32..48 {
            let f = b ^ c ^ d;
            step(i, f, (3 * i + 5) % 16, &mut a, &mut b, &mut c, &mut d);
        }
        for i in 48..64 {
            let f = c ^ (b | !d);
            step(i, f, (7 * i) % 16, &mut a, &mut b, &mut c, &mut d);
        }
        self.state[0] = self.state[0].wrapping_add(a);
        self.state[1] = self.state[1].wrapping_add(b);
        self.state[2] = self.state[2].wrapping_add(c);
        self.state[3] = self.state[3].wrapping_add(d);
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.total_len = self.total_len.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (64 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < 64 {
                return;
            }
            let b = self.buf;
            self.block(&b);
            self.buf_len = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for blk in &mut blocks {
            let mut b = [0u8; 64];
            b.copy_from_slice(blk);
            self.block(&b);
        }
        let rest = blocks.remainder();
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    pub fn finish(mut self) -> [u8; 16] {
        let bits = self.total_len.wrapping_mul(8);
        let mut pad = vec![0x80u8];
        let rem = (self.buf_len + 1) % 64;
        let zeros = if rem <= 56 { 56 - rem } else { 120 - rem };
        pad.extend(std::iter::repeat(0).take(zeros));
        pad.extend_from_slice(&bits.to_le_bytes());
        let total = self.total_len;
        self.update(&pad);
        self.total_len = total;
        let mut out = [0u8; 16];
        for (i, w) in self.state.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// The digest as keepalived's `digest` writes it: 32 lower-case hex digits.
    pub fn finish_hex(self) -> String {
        to_hex(&self.finish())
    }

    /// The hex digest of `data` in one go.
    pub fn hex(data: &[u8]) -> String {
        let mut m = Md5::new();
        m.update(data);
        to_hex(&m.finish())
    }
}

/// Lower-case hex of `b`.
pub fn to_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_rfc1321_test_suite() {
        let cases = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Md5::hex(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn md5_streaming_equals_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for split in [0, 1, 55, 56, 63, 64, 65, 999] {
            let mut m = Md5::new();
            m.update(&data[..split]);
            m.update(&data[split..]);
            assert_eq!(to_hex(&m.finish()), Md5::hex(&data));
        }
    }
}
