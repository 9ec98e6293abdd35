"""Import and export of master data and open jobs (Excel .xlsx and CSV)."""
