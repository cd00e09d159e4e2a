-- Step 1's source on the embedded engine: the lines of a batch file (batches.py), numbered in file order. One
-- thread, so that line numbers follow the file (the marker lines' places say whose each line is); blocks of 8k
-- lines (with the default 64k, reading a 64 MiB batch held 100 MB more at its peak); pread, not mmap (mapped
-- pages of the file would count in the process's RSS). A fragment: no semicolon.
(
    SELECT toUInt32(0) AS file_idx, rowNumberInAllBlocks() AS rn, line
    FROM file({path:String}, LineAsString)
    SETTINGS storage_file_read_method = 'pread', input_format_parallel_parsing = 0, max_threads = 1,
             max_read_buffer_size = 1048576, max_block_size = 8192
)
