"""Store backends behind one partition-scoped interface (see base.py)."""
