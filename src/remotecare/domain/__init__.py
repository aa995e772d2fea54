"""The facts of remote care: plain values with no I/O, no database and no clock."""
