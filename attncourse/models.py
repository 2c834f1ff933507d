"""Models the chapters train: encoder–decoders with or without attention, and friends.

The builders arrive with the chapters that explain them (chapter 2, the encoder–decoder;
chapter 3, the same model with an attention layer plugged in; later chapters, the
document classifiers and the language model). This module is importable already so that
notebooks and tests can depend on its name.
"""
