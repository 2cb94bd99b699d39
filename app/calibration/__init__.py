"""Fitting the abstention gate and the sentence scorer (`guideground calibrate`): training, not serving.

The service only reads the fitted file (app/query/calibration/abstain.json) through app/query/abstain.py.
"""
