"""Thin command line: parse arguments, call one function per verb, render."""
