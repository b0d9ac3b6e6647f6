"""Graded supervision (分级分类监管) and random inspection draws (双随机、一公开).

A plan fixes its scope, the evaluation run whose grades it uses and a sampling ratio per grade within the bounds of
`data/sampling.yaml`, and publishes sha256(seed) before the draw; the draw is a deterministic function of the seed
and the eligible set, so anyone can re-run it once the seed is revealed. Allowed imports: supervision → evaluation.
"""
