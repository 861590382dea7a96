// dropout_bits mirrors ops.DropoutBits line by line (32-bit wrapping adds, xors, shifts and
// multiplies), so the GPU draws exactly the CPU's dropout mask. dropout.wgsl and
// dropout_backward.wgsl both include it: the forward and backward masks cannot drift apart.

// mix32 is core.mix32 (Chris Wellons' lowbias32).
fn mix32(v: u32) -> u32 {
    var h = v;
    h = h ^ (h >> 16u);
    h = h * 0x7feb352du;
    h = h ^ (h >> 15u);
    h = h * 0x846ca68bu;
    h = h ^ (h >> 16u);
    return h;
}

fn dropout_bits(seed_lo: u32, seed_hi: u32, step: u32, site: u32, index: u32) -> u32 {
    var h = mix32(seed_lo);
    h = mix32(h + seed_hi);
    h = mix32(h + step);
    h = mix32(h + site);
    return mix32(h + index);
}
