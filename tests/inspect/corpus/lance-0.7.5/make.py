# Run with pylance 0.7.5 (see README.md): writes the committed old.lance.
import lance
import pyarrow as pa
import sys
out = sys.argv[1]
t = pa.table({"id": pa.array(range(0, 50), pa.int64()), "label": pa.array([f"c{i%3}" for i in range(50)])})
lance.write_dataset(t, out, max_rows_per_file=20)
t2 = pa.table({"id": pa.array(range(50, 92), pa.int64()), "label": pa.array([f"c{i%3}" for i in range(42)])})
lance.write_dataset(t2, out, mode="append")
ds = lance.dataset(out)
ds.delete("id < 5") if hasattr(ds, "delete") else None
ds = lance.dataset(out)
print(lance.__version__, ds.version, ds.count_rows(), [ (f.fragment_id, f.count_rows()) for f in ds.get_fragments()])
