//! Blocks of linear memory for the caller, from the module's global allocator.

use std::alloc::{alloc as sys_alloc, dealloc, Layout};

const ALIGN: usize = 16;

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
