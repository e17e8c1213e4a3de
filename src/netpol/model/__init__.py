"""Typed, immutable cluster objects, each remembering where it came from.

Import each from its module (``netpol.model.cluster``, ``netpol.model.policy``, ...): this
package imports nothing itself, so what starts first (the CLI's output door needs only
``netpol.model.safe_text``) does not pay for the whole model.
"""
