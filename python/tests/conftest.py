import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the package, without installing it
REPO = HERE.parent.parent
DATA = HERE / "data"
