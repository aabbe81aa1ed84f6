"""Code that runs inside the student's process (the sandbox kernel).

Everything this subpackage sends back is untrusted: see README.md.
"""
