"""The trusted test driver: locked and hidden tests run here, never in the student's
process. `proxy` holds handles on the student's objects; `run` executes a test cell."""
