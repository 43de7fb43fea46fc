"""Item types shared by course exercises and quiz questions: definitions checked, responses read, scores computed (pure)."""
