"""What a trained model is: calibrated LightGBM, its SHAP attribution, the points baseline, the score scale."""
