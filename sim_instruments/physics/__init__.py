"""What the simulated tools do to the workpiece: one module of pure physics per tool kind."""
