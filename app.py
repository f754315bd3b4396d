"""Home page of the sign-language recognition app (the pages arrive with the following issues)."""

import platform

import streamlit as st

st.set_page_config(page_title="Sign-language recognition", page_icon="🤟", layout="wide")
st.title("🤟 Sign-language recognition")
st.write(
    "Recognise signs from a webcam or a recorded clip with MediaPipe keypoints and a hierarchical "
    "transformer, collect them as keywords, and turn the keywords into an English sentence."
)
st.subheader("Pages to come")
st.markdown(
    "- **Live camera**: signs recognised as you sign\n"
    "- **Upload clip**: the signs in a recorded video, with confidence\n"
    "- **Dataset explorer**: skeleton animations and predictions for Kaggle-layout samples\n"
    "- **Translate**: keywords to an English sentence (FLAN-T5)\n"
    "- **Train**: the training loop with live curves"
)
st.subheader("Environment")
try:
    import mediapipe
    import torch

    device = f"CUDA ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "CPU"
    st.table(
        {
            "component": ["Python", "torch", "mediapipe", "streamlit", "device"],
            "version": [platform.python_version(), torch.__version__, mediapipe.__version__, st.__version__, device],
        }
    )
except ImportError as exc:
    st.error(f"A dependency is missing ({exc}); run `make run` to set up the environment.")
