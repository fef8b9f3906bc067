"""The trn_isa simulator; filled by the simulator issue."""
