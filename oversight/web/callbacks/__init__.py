"""Phone callbacks: call lists, attempts, answers, and complaints."""
