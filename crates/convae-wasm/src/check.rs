//! Argument checks for the export layer: every buffer the caller names must lie
//! inside linear memory, be 4-byte aligned, and (for outputs) not overlap inputs.
//! Only after these checks are slices built from the raw addresses.

use std::alloc::{alloc as sys_alloc, dealloc, Layout};

/// A status code (see `status` in lib.rs).
pub struct Code(pub u32);

/// A checked buffer: `[ptr, ptr + bytes)` lies inside linear memory. ptr = 0 means "absent"
/// (only for optional buffers).
#[derive(Clone, Copy)]
pub struct Buf {
    ptr: usize,
    len: usize,
}

const ALIGN: usize = 16;

#[cfg(target_arch = "wasm32")]
fn memory_bytes() -> usize {
    core::arch::wasm32::memory_size(0) * 65536
}

#[cfg(not(target_arch = "wasm32"))]
fn memory_bytes() -> usize {
    usize::MAX
}

fn in_memory(ptr: usize, len: usize) -> Result<(), Code> {
    if ptr == 0 {
        return Err(Code(crate::status::OUT_OF_BOUNDS));
    }
    if !ptr.is_multiple_of(4) {
        return Err(Code(crate::status::MISALIGNED));
    }
    let end = len
        .checked_mul(4)
        .and_then(|b| b.checked_add(ptr))
        .ok_or(Code(crate::status::OUT_OF_BOUNDS))?;
    if end > memory_bytes() {
        return Err(Code(crate::status::OUT_OF_BOUNDS));
    }
    Ok(())
}

impl Buf {
    /// A required f32 buffer of `len` elements.
    pub fn f32(ptr: usize, len: usize) -> Result<Buf, Code> {
        in_memory(ptr, len)?;
        Ok(Buf { ptr, len })
    }
    /// A required u32 buffer of `len` elements (same checks; 4-byte elements too).
    pub fn u32(ptr: usize, len: usize) -> Result<Buf, Code> {
        Buf::f32(ptr, len)
    }
    /// An optional f32 buffer: address 0 means absent.
    pub fn f32_opt(ptr: usize, len: usize) -> Result<Buf, Code> {
        if ptr == 0 {
            return Ok(Buf { ptr: 0, len: 0 });
        }
        Buf::f32(ptr, len)
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
        if self.ptr == 0 {
            None
        } else {
            Some(self.slice())
        }
    }
    /// # Safety
    /// As `slice_mut`.
    pub unsafe fn slice_mut_opt<'a>(&self) -> Option<&'a mut [f32]> {
        if self.ptr == 0 {
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
            if o.ptr < i.ptr + i.bytes() && i.ptr < o.ptr + o.bytes() {
                return Err(Code(crate::status::OVERLAP));
            }
        }
    }
    Ok(())
}

pub fn alloc(bytes: usize) -> usize {
    let Ok(layout) = Layout::from_size_align(bytes.max(1), ALIGN) else {
        return 0;
    };
    // SAFETY: layout has non-zero size.
    unsafe { sys_alloc(layout) as usize }
}

pub fn free(ptr: usize, bytes: usize) {
    if ptr == 0 {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(bytes.max(1), ALIGN) {
        // SAFETY: the protocol requires ptr to come from `alloc` with the same size.
        unsafe { dealloc(ptr as *mut u8, layout) }
    }
}
