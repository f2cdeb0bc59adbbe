//! Argument checks: every buffer the caller names must lie inside the layer's
//! memory, be 4-byte aligned, and (for outputs) not overlap inputs. Only after
//! these checks are slices built from the addresses.

use crate::status;

/// A status code (see [`status`]).
pub struct Code(pub u32);

/// The memory the caller's addresses point into.
///
/// # Safety
/// `at(addr)` must be valid for reads and writes of every byte of
/// `[addr, bytes())` for as long as the implementor lives: the checks let a
/// kernel touch any in-bounds address the caller names.
pub unsafe trait Memory {
    /// Bytes addressable now: a buffer reaching beyond is OUT_OF_BOUNDS.
    fn bytes(&self) -> usize;
    /// The real pointer of address `addr` (`addr` <= `bytes()`, checked).
    fn at(&self, addr: usize) -> *mut u8;
}

/// A checked buffer: `[addr, addr + 4·len)` lies inside memory, `ptr` is its
/// real pointer. addr = 0 means "absent" (only for optional buffers).
#[derive(Clone, Copy)]
pub struct Buf {
    addr: usize,
    len: usize,
    ptr: *mut u8,
}

fn in_memory(mem: &impl Memory, addr: usize, len: usize) -> Result<(), Code> {
    if addr == 0 {
        return Err(Code(status::OUT_OF_BOUNDS));
    }
    if !addr.is_multiple_of(4) {
        return Err(Code(status::MISALIGNED));
    }
    let end = len
        .checked_mul(4)
        .and_then(|b| b.checked_add(addr))
        .ok_or(Code(status::OUT_OF_BOUNDS))?;
    if end > mem.bytes() {
        return Err(Code(status::OUT_OF_BOUNDS));
    }
    Ok(())
}

impl Buf {
    /// A required f32 buffer of `len` elements.
    pub fn f32(mem: &impl Memory, addr: usize, len: usize) -> Result<Buf, Code> {
        in_memory(mem, addr, len)?;
        Ok(Buf {
            addr,
            len,
            ptr: mem.at(addr),
        })
    }
    /// A required u32 buffer of `len` elements (same checks; 4-byte elements too).
    pub fn u32(mem: &impl Memory, addr: usize, len: usize) -> Result<Buf, Code> {
        Buf::f32(mem, addr, len)
    }
    /// An optional f32 buffer: address 0 means absent.
    pub fn f32_opt(mem: &impl Memory, addr: usize, len: usize) -> Result<Buf, Code> {
        if addr == 0 {
            return Ok(Buf {
                addr: 0,
                len: 0,
                ptr: core::ptr::null_mut(),
            });
        }
        Buf::f32(mem, addr, len)
    }
    fn bytes(&self) -> usize {
        self.len * 4
    }
    /// # Safety
    /// The buffer was checked to lie in memory; the caller makes sure no `&mut` to it exists.
    pub unsafe fn slice<'a>(&self) -> &'a [f32] {
        if self.len == 0 {
            return &[];
        }
        core::slice::from_raw_parts(self.ptr as *const f32, self.len)
    }
    /// # Safety
    /// As `slice`, and no other reference to the buffer exists (checked by `disjoint`).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice_mut<'a>(&self) -> &'a mut [f32] {
        if self.len == 0 {
            return &mut [];
        }
        core::slice::from_raw_parts_mut(self.ptr as *mut f32, self.len)
    }
    /// # Safety
    /// As `slice`.
    pub unsafe fn slice_opt<'a>(&self) -> Option<&'a [f32]> {
        if self.addr == 0 {
            None
        } else {
            Some(self.slice())
        }
    }
    /// # Safety
    /// As `slice_mut`.
    pub unsafe fn slice_mut_opt<'a>(&self) -> Option<&'a mut [f32]> {
        if self.addr == 0 {
            None
        } else {
            Some(self.slice_mut())
        }
    }
    /// # Safety
    /// As `slice`.
    pub unsafe fn slice_u32<'a>(&self) -> &'a [u32] {
        if self.len == 0 {
            return &[];
        }
        core::slice::from_raw_parts(self.ptr as *const u32, self.len)
    }
    /// # Safety
    /// As `slice_mut`.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice_u32_mut<'a>(&self) -> &'a mut [u32] {
        if self.len == 0 {
            return &mut [];
        }
        core::slice::from_raw_parts_mut(self.ptr as *mut u32, self.len)
    }
}

/// Every buffer of `outs` must not overlap any buffer of `others` (empty/absent ones never overlap).
pub fn disjoint(outs: &[Buf], others: &[Buf]) -> Result<(), Code> {
    for o in outs {
        for i in others {
            if o.len == 0 || i.len == 0 {
                continue;
            }
            if o.addr < i.addr + i.bytes() && i.addr < o.addr + o.bytes() {
                return Err(Code(status::OVERLAP));
            }
        }
    }
    Ok(())
}
