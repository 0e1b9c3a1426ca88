#!/bin/sh
# A lab upgrading pylance over time: write with 0.7.5, delete with 0.8.0 (each in the same venv).
set -e
out=${1:-migrated.lance}
python3.11 -m venv /tmp/lance-lab
/tmp/lance-lab/bin/pip install 'pylance==0.7.5' 'numpy<2' 'pyarrow<15'
/tmp/lance-lab/bin/python make.py "$out" write     # prints 0.7.5 3 57 57
/tmp/lance-lab/bin/pip install 'pylance==0.8.0'
/tmp/lance-lab/bin/python make.py "$out" delete    # prints 0.8.0 4 50 56: 0.8.0's own count is wrong
