//! One instance's memory: a fixed range of address space reserved once, in
//! which the caller's blocks live at byte offsets ("addresses"), exactly as in
//! wasm linear memory.
//!
//! - The range is `ARENA_BYTES` of anonymous private memory mapped once with
//!   `MAP_NORESERVE`: nothing is committed until a page is touched, and the
//!   mapping never moves, so the one ArrayBuffer over it never detaches.
//! - Blocks are handed out by `offset-allocator` (a TLSF allocator over
//!   offsets). Its bookkeeping lives outside the arena, in ordinary Rust
//!   memory: kernels and JavaScript may write anywhere inside the arena, as
//!   they may anywhere in wasm memory, without corrupting the allocator (an
//!   allocator with boundary tags inside the arena, such as talc, would turn a
//!   stray write into a corrupt heap that then writes outside it).
//! - Addresses below `HEAP_START` are never handed out, so 0 is never a block.
//! - `bytes()` is the high-water mark of the blocks handed out (grows, never
//!   shrinks), the counterpart of wasm's memory size: argument checks reject a
//!   buffer reaching beyond it. `live_bytes()` counts the bytes of the blocks
//!   not yet freed (what JS sees as `memoryBytes`: unlike a wasm memory size it
//!   falls when blocks are freed, and a rejected call leaves it unchanged, since
//!   TLSF may place a short-lived block above the high-water mark while free
//!   space remains below it).
//! - `free` frees only a live block with its exact size; any other call does
//!   nothing (wasm's allocator would corrupt its heap; here there is no sandbox
//!   around a corrupt heap, so the addon refuses instead).

use memmap2::{MmapMut, MmapOptions};
use offset_allocator::{Allocation, Allocator};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// Size of every arena: 4 GiB, the most a wasm32 memory can hold, so the same
/// models fit on either backend and every address fits a u32 (`>>> 0` in JS).
/// Node 20 accepts an ArrayBuffer of exactly this size (`buffer.constants.MAX_LENGTH`).
pub const ARENA_BYTES: usize = 1 << 32;
/// The first 64 KiB (one wasm page) are never handed out.
pub const HEAP_START: usize = 1 << 16;
/// Every block starts at a multiple of 16 bytes (the wasm layer's alignment).
pub const ALIGN: usize = 16;
/// Most blocks (live plus free fragments) the allocator tracks; its node table
/// takes about 28 bytes per entry.
const MAX_NODES: u32 = 1 << 16;

struct Block {
    allocation: Allocation,
    bytes: usize,
}

/// One instance's arena and its allocator. Used from one thread (the JS
/// thread of its Node environment).
pub struct Arena {
    map: MmapMut,
    heap: RefCell<Heap>,
    top: Cell<usize>,
    live_bytes: Cell<usize>,
}

struct Heap {
    blocks: Allocator,
    live: HashMap<usize, Block>,
}

impl Arena {
    /// Reserves `ARENA_BYTES` of address space (nothing committed yet).
    pub fn new() -> std::io::Result<Arena> {
        Arena::with_size(ARENA_BYTES)
    }

    /// An arena of `size` bytes (tests use small ones). `size` <= 2^32.
    pub fn with_size(size: usize) -> std::io::Result<Arena> {
        assert!(size > HEAP_START && size <= 1 << 32);
        let map = MmapOptions::new().len(size).no_reserve_swap().map_anon()?;
        // The allocator counts in u32; the heap is the arena above HEAP_START.
        let heap_len = (size - HEAP_START) as u32;
        Ok(Arena {
            map,
            heap: RefCell::new(Heap {
                blocks: Allocator::with_max_allocs(heap_len, MAX_NODES),
                live: HashMap::new(),
            }),
            top: Cell::new(HEAP_START),
            live_bytes: Cell::new(0),
        })
    }

    /// The arena's first byte (address 0).
    pub fn base(&self) -> *mut u8 {
        self.map.as_ptr() as *mut u8
    }

    /// Bytes reserved (the ArrayBuffer's length).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Never empty (the constructor refuses it); here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// High-water mark: the end of the highest block ever handed out.
    pub fn bytes(&self) -> usize {
        self.top.get()
    }

    /// A 16-byte aligned block of `bytes` bytes (at least 1), or 0 when the arena is full.
    pub fn alloc(&self, bytes: usize) -> usize {
        let Some(size) = bytes.max(1).checked_next_multiple_of(ALIGN) else {
            return 0;
        };
        let Ok(size32) = u32::try_from(size) else {
            return 0;
        };
        let mut heap = self.heap.borrow_mut();
        let Some(allocation) = heap.blocks.allocate(size32) else {
            return 0;
        };
        // Sizes are multiples of ALIGN, so every offset is too.
        let addr = HEAP_START + allocation.offset as usize;
        heap.live.insert(
            addr,
            Block {
                allocation,
                bytes: size,
            },
        );
        self.top.set(self.top.get().max(addr + size));
        self.live_bytes.set(self.live_bytes.get() + size);
        addr
    }

    /// Frees the live block at `addr` allocated with `bytes`; returns false and
    /// changes nothing for any other pair (a double free, a foreign address, a wrong size).
    pub fn free(&self, addr: usize, bytes: usize) -> bool {
        let Some(size) = bytes.max(1).checked_next_multiple_of(ALIGN) else {
            return false;
        };
        let mut heap = self.heap.borrow_mut();
        match heap.live.get(&addr) {
            Some(b) if b.bytes == size => {}
            _ => return false,
        }
        let block = heap.live.remove(&addr).expect("checked above");
        heap.blocks.free(block.allocation);
        self.live_bytes.set(self.live_bytes.get() - block.bytes);
        true
    }

    /// Blocks alive now.
    pub fn live_blocks(&self) -> usize {
        self.heap.borrow().live.len()
    }

    /// Bytes of the blocks alive now (each rounded up to `ALIGN`).
    pub fn live_bytes(&self) -> usize {
        self.live_bytes.get()
    }
}

// SAFETY: the mapping is readable and writable over its whole length and lives
// as long as the arena; `bytes()` never exceeds it.
unsafe impl convae_abi::Memory for Arena {
    fn bytes(&self) -> usize {
        self.top.get()
    }
    fn at(&self, addr: usize) -> *mut u8 {
        self.base().wrapping_add(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn blocks_are_aligned_disjoint_above_the_first_page_and_reusable() {
        let a = Arena::with_size(64 * MIB).unwrap();
        assert_eq!(a.bytes(), HEAP_START);
        let sizes = [1, 3, 16, 17, 4096, 100_000, 5, 0];
        let blocks: Vec<(usize, usize)> = sizes.iter().map(|&s| (a.alloc(s), s)).collect();
        for &(p, s) in &blocks {
            assert!(p >= HEAP_START && p % ALIGN == 0, "block {p} of {s} bytes");
            assert!(p + s.max(1) <= a.bytes());
        }
        for (i, &(p, s)) in blocks.iter().enumerate() {
            for &(q, t) in &blocks[i + 1..] {
                assert!(
                    p + s.max(1) <= q || q + t.max(1) <= p,
                    "{p}+{s} overlaps {q}+{t}"
                );
            }
        }
        // Write every byte of every block: the mapping is usable.
        for &(p, s) in &blocks {
            unsafe { std::ptr::write_bytes(a.base().add(p), 0xab, s.max(1)) };
        }
        let top = a.bytes();
        for &(p, s) in &blocks {
            assert!(a.free(p, s));
        }
        assert_eq!(a.live_blocks(), 0);
        // The same sizes fit again without raising the high-water mark.
        for &s in &sizes {
            assert_ne!(a.alloc(s), 0);
        }
        assert_eq!(a.bytes(), top);
    }

    #[test]
    fn a_full_arena_returns_zero_and_recovers_after_a_free() {
        let a = Arena::with_size(8 * MIB).unwrap();
        let big = a.alloc(6 * MIB);
        assert_ne!(big, 0);
        assert_eq!(a.alloc(4 * MIB), 0, "over the arena");
        assert_eq!(a.alloc(usize::MAX), 0);
        assert_eq!(a.alloc(u32::MAX as usize), 0);
        assert!(a.free(big, 6 * MIB));
        assert_ne!(a.alloc(4 * MIB), 0);
    }

    #[test]
    fn bad_frees_change_nothing() {
        let a = Arena::with_size(8 * MIB).unwrap();
        let p = a.alloc(100);
        assert!(!a.free(0, 100));
        assert!(!a.free(p + 16, 100));
        assert!(!a.free(p, 200), "wrong size");
        assert_eq!(a.live_blocks(), 1);
        assert_eq!(a.live_bytes(), 112);
        assert!(a.free(p, 100), "size 100 and 112 round to the same block");
        assert!(!a.free(p, 100), "double free");
        assert_eq!((a.live_blocks(), a.live_bytes()), (0, 0));
    }

    #[test]
    fn the_full_size_arena_reserves_4_gib_and_serves_1_gib_blocks() {
        // MAX_TENSOR_ELEMENTS (ts/limits.ts) f32s = 1 GiB: three fit with room to spare.
        let a = Arena::new().unwrap();
        assert_eq!(a.len(), ARENA_BYTES);
        let gib = 1usize << 30;
        let blocks: Vec<usize> = (0..3).map(|_| a.alloc(gib)).collect();
        assert!(blocks.iter().all(|&p| p != 0 && p + gib <= ARENA_BYTES));
        // Touch the first and last page of each block only: no 3 GiB committed.
        for &p in &blocks {
            unsafe {
                *a.base().add(p) = 1;
                *a.base().add(p + gib - 1) = 2;
            }
        }
        assert_eq!(a.alloc(2 * gib), 0, "4 GiB in all");
    }
}
