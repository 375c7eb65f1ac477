DROP VIEW allocator_py_explanations_named;
DROP TABLE allocator_py_seat_values;
DROP TABLE allocator_py_explanations;
