"""Values in 16-bit registers: 32-bit values (HIGH word first), bitmaps over several
registers (item i = bit i % 16 of register i // 16) and 4-bit fields (item g = bits
4 * (g % 4) .. +3 of register g // 4). `regs` is any mutable sequence of ints (a list, or
an array('H')); `index` is where the value starts in it. No allocation except where noted.
"""


# --- 32-bit values, high word first -------------------------------------------------------
def split_u32(value):
    """(high, low) registers of a 32-bit unsigned value."""
    value &= 0xFFFFFFFF
    return (value >> 16) & 0xFFFF, value & 0xFFFF


def join_u32(high, low):
    return ((high & 0xFFFF) << 16) | (low & 0xFFFF)


def get_u32(regs, index):
    """32-bit value at regs[index] (high), regs[index + 1] (low)."""
    return join_u32(regs[index], regs[index + 1])


def set_u32(regs, index, value):
    regs[index], regs[index + 1] = split_u32(value)


# --- bitmaps over registers --------------------------------------------------------------
def get_bit(regs, index, i):
    """Item i of the bitmap that starts at regs[index]."""
    return (regs[index + (i >> 4)] >> (i & 15)) & 1


def set_bit(regs, index, i, on):
    r = index + (i >> 4)
    if on:
        regs[r] |= 1 << (i & 15)
    else:
        regs[r] &= ~(1 << (i & 15)) & 0xFFFF


def bits_to_regs(bits, regs, index, nregs):
    """Write the bitmap `bits` (an int, item i = bit i) into nregs registers at index."""
    for k in range(nregs):
        regs[index + k] = (bits >> (16 * k)) & 0xFFFF


def regs_to_bits(regs, index, nregs):
    """The bitmap of nregs registers at index as an int (item i = bit i)."""
    bits = 0
    for k in range(nregs):
        bits |= (regs[index + k] & 0xFFFF) << (16 * k)
    return bits


# --- 4-bit fields -------------------------------------------------------------------------
def get_nibble(regs, index, g):
    return (regs[index + (g >> 2)] >> ((g & 3) << 2)) & 0xF


def set_nibble(regs, index, g, value):
    r = index + (g >> 2)
    shift = (g & 3) << 2
    regs[r] = (regs[r] & ~(0xF << shift) & 0xFFFF) | ((value & 0xF) << shift)
