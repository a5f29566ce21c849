"""Package data read at run time: the accreditor table and other lookup files."""
