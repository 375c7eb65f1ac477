SELECT specialty_a, specialty_b, weight FROM specialty_affinity ORDER BY specialty_a, specialty_b
