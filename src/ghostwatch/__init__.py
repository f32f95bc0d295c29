"""ghostwatch: follow-up drafts for conversations that went silent."""
