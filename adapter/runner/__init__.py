"""The engine's moving parts wired together: planning step, run-once loop, runtime."""
