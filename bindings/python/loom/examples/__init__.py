"""Runnable examples: python -m loom.examples.fashion_mnist"""
