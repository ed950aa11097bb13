document.getElementById('app')!.textContent = 'CareThread';
